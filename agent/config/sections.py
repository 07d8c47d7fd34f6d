"""The sections of the config file, one model each: who the partner is, how to sign in, where
Microsoft is, what to read, where to keep it, when to run, what to expect, what to alert."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator

from agent.alerts.config import AlertsConfig
from agent.config.redact import mask_url
from agent.config.types import (
    ALL_LINK_KINDS,
    Duration,
    Guid,
    LinkKindName,
    PartnerId,
    Section,
    guid,
    read_secret,
)
from agent.cron import check_cron
from agent.durations import parse_duration
from connectors.endpoints import CloudEndpoints, cloud_of
from connectors.http.body import DEFAULT_MAX_BODY, DEFAULT_MAX_DOWNLOAD


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
        self.client_secret = read_secret(
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
        return [t if t == "*" else guid(t) for t in value]

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
    """Where Microsoft is: a ``preset`` cloud sets the login authority, every API's URL and
    every token resource together; a URL given here replaces the preset's (a proxy, say) but
    never its token resource, and a URL of another cloud than the preset is refused."""

    preset: Literal["public", "usgov", "china"] = Field(
        default="public",
        description="public: the worldwide cloud; usgov: Microsoft Cloud for US Government; "
        "china: Microsoft Azure and Microsoft 365 operated by 21Vianet.",
    )
    authority_host: str | None = None
    partner_center_url: str | None = None
    graph_url: str | None = None
    arm_url: str | None = None
    insights_url: str | None = None
    ca_bundle: Path | None = None

    @field_validator("authority_host", "partner_center_url", "graph_url", "arm_url", "insights_url")
    @classmethod
    def _https(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        if not value.startswith("https://"):
            raise ValueError("expected an https:// URL")
        other = cloud_of(value)
        preset = info.data.get("preset", "public")
        if other is not None and other != preset:
            raise ValueError(
                f"{value} is a host of the {other!r} cloud but cloud.preset is {preset!r}: set "
                f'preset = "{other}" (it sets every URL and every token resource; a URL alone '
                "would still ask for tokens of the other cloud)"
            )
        return value.rstrip("/")

    @field_validator("ca_bundle")
    @classmethod
    def _exists(cls, value: Path | None) -> Path | None:
        if value is not None and not value.expanduser().is_file():
            raise ValueError(f"no such file: {value}")
        return value.expanduser() if value else None

    def endpoints(self) -> CloudEndpoints:
        """The preset's endpoints with the URLs given here in place of its own."""
        urls = {
            "authority_host": self.authority_host,
            "partner_center": self.partner_center_url,
            "graph": self.graph_url,
            "arm": self.arm_url,
            "insights": self.insights_url,
        }
        return CloudEndpoints.cloud(self.preset).with_overrides(
            **{k: v for k, v in urls.items() if v is not None}
        )


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


class StoreSection(Section):
    url: str = Field(default="", description="SQLAlchemy URL; default: SQLite in data_dir.")
    data_dir: Path = Path("data")

    def __repr_args__(self) -> Any:
        # The URL may carry the database password: keep it out of reprs (and so out of logs).
        for name, value in super().__repr_args__():
            yield name, mask_url(value) if name == "url" and isinstance(value, str) else value

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
    http_transport: Literal["partnerlink", "httpx"] = Field(
        default="partnerlink",
        description="The HTTP/1.1 transport under the clients: the agent's own, or httpx's.",
    )

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
    catch_up: bool = Field(
        default=True,
        description="At start, run a cycle at once when the last complete one is older than "
        "the schedule's interval (or there is none).",
    )

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


class ReadinessSection(Section):
    """``[readiness]``: how much of the estate must be readable, and when to say so."""

    floor: float = Field(
        default=100.0,
        ge=0,
        le=100,
        description="Percent of customers, Azure subscriptions and seats that must be fully "
        "readable; below it `partnerlink readiness` and `check --online` exit non-zero.",
    )
    at_start: bool = Field(
        default=True, description="`partnerlink run` checks readiness once at start and logs it."
    )


class RepairSection(Section):
    pal_enabled: bool = Field(
        default=False, description="Let `partnerlink pal repair` write Partner Admin Links."
    )
    pal_partner_id: PartnerId | None = Field(
        default=None,
        description="The location ID PAL should carry (default: the only location meant for PAL).",
    )
    access_enabled: bool = Field(
        default=False,
        description="Let `partnerlink access --apply` consent the partner's app and assign it "
        "Graph app roles and Azure Reader in customer tenants (as the signed-in administrator).",
    )


class LoggingSection(Section):
    level: Literal["debug", "info", "warning", "error"] = "info"
    format: Literal["auto", "json", "console"] = "auto"
