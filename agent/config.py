"""Configuration: one TOML file plus ``PARTNERLINK_*`` environment overrides (pydantic-settings).

Nested keys join with ``__`` (``PARTNERLINK_STORE__URL``). Secrets are ``SecretStr`` and may come
from the file, the environment, or a ``*_file`` path; they are never printed. A broken config
raises :class:`ConfigError` with one line naming the file, the key and what was expected.
"""

from __future__ import annotations

import os
import re
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
)

from agent.alerts.config import AlertsConfig
from agent.config_checks import problems
from agent.cron import check_cron
from agent.durations import format_duration, parse_duration
from agent.web.config import HttpSection
from connectors.http.body import DEFAULT_MAX_BODY, DEFAULT_MAX_DOWNLOAD

ENV_PREFIX = "PARTNERLINK_"
CONFIG_ENV = "PARTNERLINK_CONFIG"
DEFAULT_CONFIG = Path("partnerlink.toml")

_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_PARTNER_ID = re.compile(r"^[0-9]{6,10}$")


def _guid(value: str) -> str:
    if not _GUID.match(value):
        raise ValueError("expected a GUID like 00000000-0000-0000-0000-000000000000")
    return value.lower()


def _partner_id(value: str) -> str:
    if not _PARTNER_ID.match(value):
        raise ValueError("expected a partner ID (MPN ID) of 6 to 10 digits")
    return value


Guid = Annotated[str, AfterValidator(_guid)]
PartnerId = Annotated[str, AfterValidator(_partner_id)]
LinkKindName = Literal["csp", "indirect_reseller", "gdap", "pal", "dpor", "cpor"]
ALL_LINK_KINDS: tuple[LinkKindName, ...] = (
    "pal",
    "cpor",
    "dpor",
    "csp",
    "indirect_reseller",
    "gdap",
)


Duration = Annotated[timedelta, Field(json_schema_extra={"type": "string"})]


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)


def _read_secret(value: SecretStr | None, file: Path | None, where: str) -> SecretStr | None:
    if value is not None and file is not None:
        raise ValueError(f"give {where} or {where}_file, not both")
    if file is not None:
        try:
            text = file.expanduser().read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ValueError(f"cannot read {where}_file {file}: {exc.strerror}") from None
        if not text:
            raise ValueError(f"{where}_file {file} is empty: expected the secret in it")
        return SecretStr(text)
    return value


class Location(Section):
    """A location partner ID and the link kinds it is meant to carry."""

    partner_id: PartnerId
    name: str = ""
    link_kinds: list[LinkKindName] = Field(default_factory=lambda: list(ALL_LINK_KINDS))


class PartnerSection(Section):
    tenant_id: Guid = "00000000-0000-0000-0000-000000000000"
    name: str = ""
    global_partner_id: PartnerId | None = None
    locations: list[Location] = []

    def ids(self) -> frozenset[str]:
        """Every partner ID that is ours."""
        ours = {loc.partner_id for loc in self.locations}
        if self.global_partner_id:
            ours.add(self.global_partner_id)
        return frozenset(ours)

    def ids_for(self, kind: str) -> frozenset[str]:
        """Location IDs meant for a link kind (every location if none names the kind)."""
        meant = {loc.partner_id for loc in self.locations if kind in loc.link_kinds}
        return frozenset(meant or {loc.partner_id for loc in self.locations})


class AppCredentials(Section):
    """An app registration: the partner's app or a PAL carrier. Certificate preferred."""

    client_id: Guid | None = None
    client_secret: SecretStr | None = None
    client_secret_file: Path | None = None
    certificate_file: Path | None = Field(
        default=None, description="PEM (private key + certificate) or PFX/P12."
    )
    certificate_password: SecretStr | None = None

    @model_validator(mode="after")
    def _one_secret(self) -> AppCredentials:
        self.client_secret = _read_secret(
            self.client_secret, self.client_secret_file, "client_secret"
        )
        self.client_secret_file = None
        return self

    @property
    def configured(self) -> bool:
        return self.client_id is not None and (
            self.client_secret is not None or self.certificate_file is not None
        )


class Carrier(AppCredentials):
    """A service principal whose job is to hold the partner's PAL in customer tenants."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")
    tenants: list[str] = Field(
        default=["*"], description='Customer tenant ids it is meant to cover, or ["*"].'
    )

    @field_validator("tenants")
    @classmethod
    def _tenants(cls, value: list[str]) -> list[str]:
        return [t if t == "*" else _guid(t) for t in value]

    def covers(self, tenant_id: str) -> bool:
        return "*" in self.tenants or tenant_id.lower() in self.tenants


class CredentialsSection(AppCredentials):
    refresh_token_file: Path | None = Field(
        default=None, description="App+user refresh token written by `partnerlink auth login`."
    )
    refresh_token_warn_days: int = Field(default=60, ge=1, le=89)
    carriers: list[Carrier] = []

    @field_validator("carriers")
    @classmethod
    def _unique(cls, value: list[Carrier]) -> list[Carrier]:
        names = [c.name for c in value]
        if len(names) != len(set(names)) or "partner-app" in names:
            raise ValueError('carrier names must be unique and not "partner-app"')
        return value


class CloudSection(Section):
    authority_host: str = "https://login.microsoftonline.com"
    partner_center_url: str = "https://api.partnercenter.microsoft.com"
    graph_url: str = "https://graph.microsoft.com"
    arm_url: str = "https://management.azure.com"
    insights_url: str = "https://api.partnercenter.microsoft.com/insights/v1/mpn"
    ca_bundle: Path | None = None

    @field_validator("authority_host", "partner_center_url", "graph_url", "arm_url", "insights_url")
    @classmethod
    def _https(cls, value: str) -> str:
        if not value.startswith("https://"):
            raise ValueError("expected an https:// URL")
        return value.rstrip("/")

    @field_validator("ca_bundle")
    @classmethod
    def _exists(cls, value: Path | None) -> Path | None:
        if value is not None and not value.expanduser().is_file():
            raise ValueError(f"no such file: {value}")
        return value.expanduser() if value else None


class SourcesSection(Section):
    mode: Literal["microsoft", "emulator", "fake"] = Field(
        default="microsoft",
        description="microsoft: the real cloud; emulator: real connectors against an in-process "
        "local emulator of `scenario`; fake: in-memory connectors reading `scenario`.",
    )
    scenario: Path | None = None
    app_user: bool = Field(
        default=False, description="Read the app+user endpoints (usage, insights API)."
    )
    insights_folder: Path | None = Field(
        default=None, description="Folder of downloaded insight-report CSV files."
    )
    disabled: list[str] = Field(default=[], description="Source names not to read.")

    @model_validator(mode="after")
    def _scenario(self) -> SourcesSection:
        if self.mode != "microsoft" and self.scenario is None:
            raise ValueError(f"mode {self.mode!r} needs sources.scenario")
        return self


def _mask_url(url: str) -> str:
    """A database URL with its password (if any) replaced by ``**********``."""
    return re.sub(r"://([^:/@]*):[^@]*@", r"://\1:**********@", url)


class StoreSection(Section):
    url: str = Field(default="", description="SQLAlchemy URL; default: SQLite in data_dir.")
    data_dir: Path = Path("data")

    def __repr_args__(self) -> Any:
        # The URL may carry the database password: keep it out of reprs (and so out of logs).
        for name, value in super().__repr_args__():
            yield name, _mask_url(value) if name == "url" and isinstance(value, str) else value

    def resolved_url(self) -> str:
        if self.url:
            return self.url
        return f"sqlite:///{(self.data_dir.expanduser() / 'partnerlink.db').resolve()}"


class SyncSection(Section):
    concurrency: int = Field(default=32, ge=1, le=256)
    max_in_flight: int = Field(default=64, ge=1, le=512)
    time_budget: Duration = Field(default=timedelta(hours=4))
    request_timeout: Duration = Field(default=timedelta(seconds=30))
    audit_lookback_days: int = Field(default=30, ge=1, le=90)
    full_every: Duration = Field(default=timedelta(days=7))
    max_body_bytes: int = Field(default=DEFAULT_MAX_BODY, ge=64_000, le=2_000_000_000)
    max_download_bytes: int = Field(default=DEFAULT_MAX_DOWNLOAD, ge=64_000, le=16_000_000_000)

    _d = field_validator("time_budget", "request_timeout", "full_every", mode="before")(
        lambda cls, v: parse_duration(v)
    )


class ScheduleSection(Section):
    # timezone before cron: the cron check reads the zone it will be scheduled in.
    timezone: str = "UTC"
    cron: str = Field(default="0 2 * * *", description="Five-field cron, in `timezone`.")
    interval: Duration | None = Field(default=None, description="Instead of cron.")
    jitter: Duration = Field(default=timedelta(minutes=5))
    misfire_grace: Duration = Field(default=timedelta(hours=6))

    _d = field_validator("interval", "jitter", "misfire_grace", mode="before")(
        lambda cls, v: None if v is None else parse_duration(v)
    )

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("expected an IANA time zone such as UTC or Europe/Berlin") from None
        return value

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str, info: ValidationInfo) -> str:
        check_cron(value, str(info.data.get("timezone", "UTC")), datetime.now(UTC))
        return value


class AuditSection(Section):
    open_after_runs: int = Field(default=1, ge=1, le=30)
    disappeared_after_runs: int = Field(default=2, ge=1, le=30)
    resolve_after_runs: int = Field(default=2, ge=1, le=30)
    gdap_expiry_lead_days: int = Field(default=30, ge=1, le=365)
    credential_expiry_lead_days: int = Field(default=30, ge=1, le=365)
    mass_disappearance_percent: float = Field(default=20.0, gt=0, le=100)


class ExpectationsSection(Section):
    managed_customers_file: Path | None = None
    expect_pal_on_azure: bool = True
    expect_gdap: bool = True

    @field_validator("managed_customers_file")
    @classmethod
    def _exists(cls, value: Path | None) -> Path | None:
        if value is not None and not value.expanduser().is_file():
            raise ValueError(f"no such file: {value}")
        return value


class RecognitionSection(Section):
    rulebook_file: Path | None = Field(
        default=None,
        description="JSON file that overrides or extends the shipped recognition rulebook.",
    )

    @field_validator("rulebook_file")
    @classmethod
    def _valid_rulebook(cls, value: Path | None) -> Path | None:
        if value is None:
            return None
        from agent.recognition.load import RulebookError, check_override

        try:
            check_override(value.expanduser())
        except RulebookError as exc:
            raise ValueError(str(exc)) from None
        return value.expanduser()


class AlertsSection(AlertsConfig):
    """``[alerts]``: sinks, routing, silences, repeat interval, heartbeat (agent/alerts)."""


class RepairSection(Section):
    pal_enabled: bool = Field(
        default=False, description="Let `partnerlink pal repair` write Partner Admin Links."
    )
    pal_partner_id: PartnerId | None = Field(
        default=None,
        description="The location ID PAL should carry (default: the only location meant for PAL).",
    )


class LoggingSection(Section):
    level: Literal["debug", "info", "warning", "error"] = "info"
    format: Literal["auto", "json", "console"] = "auto"


class Settings(BaseSettings):
    """The whole configuration."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        extra="forbid",
        validate_default=True,
    )

    partner: PartnerSection = PartnerSection()
    credentials: CredentialsSection = CredentialsSection()
    cloud: CloudSection = CloudSection()
    sources: SourcesSection = SourcesSection()
    store: StoreSection = StoreSection()
    sync: SyncSection = SyncSection()
    schedule: ScheduleSection = ScheduleSection()
    audit: AuditSection = AuditSection()
    expectations: ExpectationsSection = ExpectationsSection()
    recognition: RecognitionSection = RecognitionSection()
    alerts: AlertsSection = AlertsSection()
    http: HttpSection = HttpSection()
    repair: RepairSection = RepairSection()
    logging: LoggingSection = LoggingSection()

    def partner_ids(self) -> frozenset[str]:
        return self.partner.ids()


class ConfigError(Exception):
    """A configuration that cannot be used: one line, naming the file, the key, the fix."""


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
        if not isinstance(block, dict):
            continue
        for name in names:
            value = block.get(name)
            if isinstance(value, str) and value and not Path(value).expanduser().is_absolute():
                block[name] = str((base / value).resolve())
        if section == "credentials":
            for carrier in block.get("carriers", []) or []:
                if isinstance(carrier, dict):
                    for name in ("client_secret_file", "certificate_file"):
                        value = carrier.get(name)
                        if isinstance(value, str) and not Path(value).expanduser().is_absolute():
                            carrier[name] = str((base / value).resolve())


_SECRET_KEYS = frozenset(
    {
        "client_secret",
        "certificate_password",
        "heartbeat_url",
        "url",
        "secret",
        "previous_secret",
        "password",
        "routing_key",
        "api_key",
        "token",
    }
)
"""Keys whose given value must not appear in an error message (``store.url`` may carry a
password)."""


def _explain(error: dict[str, Any]) -> str:
    kind = error.get("type", "")
    msg = str(error.get("msg", "invalid value"))
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "required key is missing"
    msg = msg.removeprefix("Value error, ")
    value = error.get("input")
    shown = ""
    loc = tuple(error.get("loc", ()))
    if loc and str(loc[-1]) in _SECRET_KEYS:
        return msg  # never echo what was given for a secret (R19)
    if isinstance(value, str | int | float | bool) and not isinstance(value, SecretStr):
        text = str(value)
        shown = f" (got {text[:60]!r})" if len(text) < 200 and text not in msg else ""
    return f"{msg}{shown}"


def _key(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts[-1:] = [f"{parts[-1]}[{item}]"] if parts else [f"[{item}]"]
        elif str(item).startswith("function-") or item in ("lax-or-strict", "json-or-python"):
            continue
        else:
            parts.append(str(item))
    return ".".join(parts) or "(top level)"


def _env_name(key: str) -> str:
    return ENV_PREFIX + re.sub(r"\[\d+\]", "", key).replace(".", "__").upper()


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
        key = _key(tuple(error.get("loc", ())))
        env = _env_name(key)
        where = f"environment {env}" if env in os.environ else origin
        raise ConfigError(f"{where}: {key}: {_explain(dict(error))}") from None
    except SettingsError as exc:  # an environment value that cannot be decoded
        raise ConfigError(f"environment: {exc}") from None
    for key, problem in problems(settings, now=datetime.now(UTC)):
        env = _env_name(key)
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


def redacted(settings: Settings) -> dict[str, Any]:
    """The effective settings as plain data, every secret replaced by ``**********``."""
    data: dict[str, Any] = settings.model_dump(mode="json")

    def scrub(node: Any, model: Any) -> Any:
        if isinstance(model, BaseModel):
            out = {}
            for name, value in node.items():
                attr = getattr(model, name, None)
                if isinstance(attr, SecretStr):
                    out[name] = "**********" if attr.get_secret_value() else ""
                elif isinstance(attr, timedelta):
                    out[name] = format_duration(attr)
                else:
                    out[name] = scrub(value, attr)
            return out
        if isinstance(model, list):
            return [scrub(n, m) for n, m in zip(node, model, strict=False)]
        return node

    result: dict[str, Any] = scrub(data, settings)
    url = result.get("store", {}).get("url", "")
    if url:
        result["store"]["url"] = _mask_url(url)
    return result


def source_file(settings: Settings) -> Path | None:
    return getattr(settings, "_source_file", None)
