"""Configuration: one TOML file plus ``PARTNERLINK_*`` environment overrides (pydantic-settings).

Nested keys join with ``__`` (``PARTNERLINK_STORE__URL``). Secrets are ``SecretStr`` and may come
from the file, the environment, or a ``*_file`` path; they are never printed. A broken config
raises :class:`ConfigError` with one line naming the file, the key and what was expected.
"""

from agent.config.errors import ConfigError
from agent.config.loading import load_settings
from agent.config.redact import redacted
from agent.config.secrets import register_secrets
from agent.config.sections import AppCredentials
from agent.config.settings import Settings, source_file

__all__ = [
    "AppCredentials",
    "ConfigError",
    "Settings",
    "load_settings",
    "redacted",
    "register_secrets",
    "source_file",
]
