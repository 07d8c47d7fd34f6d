"""The one error a configuration raises."""


class ConfigError(Exception):
    """A configuration that cannot be used: one line, naming the file, the key, the fix."""
