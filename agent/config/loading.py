"""Reading the config: the TOML file (paths in it relative to it) below the environment, then
the checks that reach past one field; any problem is one :class:`ConfigError` line."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsError

from agent.config.checks import problems
from agent.config.errors import ConfigError
from agent.config.explain import dotted_key, env_name, explain
from agent.config.settings import Settings

CONFIG_ENV = "PARTNERLINK_CONFIG"
DEFAULT_CONFIG = Path("partnerlink.toml")


def _rebase(entry: dict[str, Any], names: Iterable[str], base: Path) -> None:
    for name in names:
        value = entry.get(name)
        if isinstance(value, str) and value and not Path(value).expanduser().is_absolute():
            entry[name] = str((base / value).resolve())


def _relative_paths(data: dict[str, Any], base: Path) -> None:
    """Paths in the file are relative to the file, not to the working directory."""
    keys = {
        "credentials": ("client_secret_file", "certificate_file", "refresh_token_file"),
        "cloud": ("ca_bundle",),
        "sources": ("scenario", "insights_folder"),
        "store": ("data_dir",),
        "expectations": ("managed_customers_file",),
        "http": ("token_file",),
        "recognition": ("rulebook_file",),
    }
    for section, names in keys.items():
        block = data.get(section)
        if isinstance(block, dict):
            _rebase(block, names, base)
    credentials, alerts, http = data.get("credentials"), data.get("alerts"), data.get("http")
    for carrier in credentials.get("carriers", []) or [] if isinstance(credentials, dict) else []:
        if isinstance(carrier, dict):
            _rebase(carrier, ("client_secret_file", "certificate_file"), base)
    sign_in = http.get("sign_in") if isinstance(http, dict) else None
    if isinstance(sign_in, dict):
        _rebase(sign_in, ("client_secret_file", "certificate_file", "session_key_file"), base)
    for sink in alerts.get("sinks", []) or [] if isinstance(alerts, dict) else []:
        if isinstance(sink, dict):  # a ticket sink's credential files (`private_key_file`, …)
            _rebase(sink, [name for name in sink if name.endswith("_file")], base)


def load_settings(path: Path | str | None = None, *, required: bool = False) -> Settings:
    """Read the config file (``path``, else ``$PARTNERLINK_CONFIG``, else ./partnerlink.toml
    when present) with environment overrides; raise :class:`ConfigError` on any problem."""
    explicit = path if path is not None else os.environ.get(CONFIG_ENV)
    file = Path(explicit).expanduser() if explicit else None
    if file is None and DEFAULT_CONFIG.is_file():
        file = DEFAULT_CONFIG
    origin = str(file) if file else "(no config file)"
    data: dict[str, Any] = {}
    if file is not None:
        try:
            data = tomllib.loads(file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{file}: no such config file (run `partnerlink init`)") from None
        except IsADirectoryError:
            raise ConfigError(f"{file}: is a directory, expected a TOML file") from None
        except PermissionError:
            raise ConfigError(f"{file}: cannot be read (permission denied)") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{file}: not valid TOML: {exc}") from None
        except UnicodeDecodeError:
            raise ConfigError(f"{file}: not UTF-8 text") from None
        _relative_paths(data, file.resolve().parent)
    elif required:
        raise ConfigError("no config file: pass --config FILE or set PARTNERLINK_CONFIG")

    try:
        settings = _settings_class(data)()
    except ValidationError as exc:
        error = exc.errors()[0]
        key = dotted_key(tuple(error.get("loc", ())))
        env = env_name(key)
        where = f"environment {env}" if env in os.environ else origin
        raise ConfigError(f"{where}: {key}: {explain(dict(error))}") from None
    except SettingsError as exc:  # an environment value that cannot be decoded
        raise ConfigError(f"environment: {exc}") from None
    for key, problem in problems(settings, now=datetime.now(UTC)):
        env = env_name(key)
        where = f"environment {env}" if env in os.environ else origin
        raise ConfigError(f"{where}: {key}: {problem}")
    settings._source_file = file  # type: ignore[attr-defined]
    return settings


class _FileSource(PydanticBaseSettingsSource):
    """The config file's data, already read and path-adjusted, below the environment."""

    def __init__(self, settings_cls: type[BaseSettings], data: dict[str, Any]) -> None:
        super().__init__(settings_cls)
        self._data = data

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return self._data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(self._data)


def _settings_class(data: dict[str, Any]) -> type[Settings]:
    class Loaded(Settings):
        @classmethod
        def settings_customise_sources(
            cls,
            settings_cls: type[BaseSettings],
            init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            return (init_settings, env_settings, _FileSource(settings_cls, data))

    return Loaded
