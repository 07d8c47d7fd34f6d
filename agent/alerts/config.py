"""Settings of the alerting layer, as pydantic models the config owner mounts under ``[alerts]``.

Kept here, beside the code that reads them, so a sink's options and its validation (R21: which
webhook URLs are acceptable) live in one place. Every model forbids unknown keys; every secret
(webhook URLs, which carry their credential in the path or a ``sig=`` parameter, the SMTP
password, the HMAC secret, the PagerDuty routing key, the Opsgenie API key) is a ``SecretStr``.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

import httpx
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from agent.alerts.urls import Resolver, UnsafeUrl, check_url, host_allowed, system_resolver
from agent.durations import parse_duration

SEVERITIES: tuple[str, ...] = ("critical", "high", "medium", "low", "info")
"""Most to least severe; the same names as ``agent.audit.model.Severity`` (a test checks)."""

SeverityName = Literal["critical", "high", "medium", "low", "info"]

_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_ROUTING_KEY = re.compile(r"^[A-Za-z0-9]{32}$")

PAGERDUTY_EVENTS_URL = "https://events.pagerduty.com/v2/enqueue"
OPSGENIE_API_URL = "https://api.opsgenie.com"
OPSGENIE_EU_API_URL = "https://api.eu.opsgenie.com"


def severity_rank(name: str) -> int:
    """0 for critical … 4 for info; unknown names rank as info."""
    return SEVERITIES.index(name) if name in SEVERITIES else len(SEVERITIES) - 1


def _resolver(info: ValidationInfo) -> Resolver:
    """The DNS seam: tests pass ``context={"resolve": fn}`` to ``model_validate``."""
    context = info.context if isinstance(info.context, dict) else {}
    resolve = context.get("resolve")
    return resolve if callable(resolve) else system_resolver


def _check_destination(url: str, info: ValidationInfo) -> None:
    """R21 at load time for a field that follows ``allow_private`` in its model."""
    try:
        check_url(
            url, allow_private=bool(info.data.get("allow_private", False)), resolve=_resolver(info)
        )
    except UnsafeUrl as exc:  # the message never contains the URL itself (R19)
        raise ValueError(str(exc)) from None


class _Model(BaseModel):
    # hide_input_in_errors: a refused webhook URL or secret must not reappear in the message.
    model_config = ConfigDict(
        extra="forbid", frozen=True, validate_default=True, hide_input_in_errors=True
    )


class SinkBase(_Model):
    """What every sink has: a name, routing filters, and whether it hears about resolves."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")
    enabled: bool = True
    min_severity: SeverityName = Field(
        default="info", description="Only findings at least this severe reach the sink."
    )
    rules: list[str] = Field(
        default=[], description="Rule ids to send (empty: every rule), e.g. ['cannot_verify']."
    )
    customer_tags: list[str] = Field(
        default=[],
        description="Only customers carrying one of these tags in the managed-customers file "
        "(empty: every customer, and partner-level findings).",
    )
    send_resolved: bool = Field(default=True, description="Also send 'resolved' messages.")


class HttpSinkBase(SinkBase):
    """A sink that POSTs to a user-configured URL: checked against R21 at load time."""

    allow_private: bool = Field(
        default=False,
        description="ESCAPE HATCH for tests and local development only: allow http:// and "
        "loopback/private/IP-literal destinations. Off by default; never set in production.",
    )
    # After allow_private: a field validator sees only the fields defined before it.
    url: SecretStr
    timeout: float = Field(default=10.0, gt=0, le=120, description="Seconds per request.")

    @field_validator("url")
    @classmethod
    def _safe_url(cls, value: SecretStr, info: ValidationInfo) -> SecretStr:
        _check_destination(value.get_secret_value(), info)
        return value


class TeamsSinkConfig(HttpSinkBase):
    """Microsoft Teams through a Workflows ("When a Teams webhook request is received") URL."""

    type: Literal["teams"]


class SlackSinkConfig(HttpSinkBase):
    """A Slack incoming webhook (``https://hooks.slack.com/services/...``)."""

    type: Literal["slack"]


class WebhookSinkConfig(HttpSinkBase):
    """Any HTTPS endpoint: a JSON body whose timestamp and bytes are signed with HMAC-SHA256
    (``agent.alerts.signing``), so a receiver can refuse forgeries and replays."""

    type: Literal["webhook"]
    secret: SecretStr = Field(description="HMAC key for X-Partnerlink-Signature.")
    previous_secret: SecretStr | None = Field(
        default=None,
        description="While rotating: the old key; each delivery then carries a second v1= "
        "signature made with it, so receivers not yet updated still accept it.",
    )

    @field_validator("secret", "previous_secret")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 16:
            raise ValueError("expected an HMAC secret of at least 16 characters")
        return value

    @model_validator(mode="after")
    def _rotation_differs(self) -> WebhookSinkConfig:
        old = self.previous_secret
        if old is not None and old.get_secret_value() == self.secret.get_secret_value():
            raise ValueError("previous_secret: expected the old key, not the same as secret")
        return self

    def signing_secrets(self) -> list[str]:
        """The keys each delivery is signed with: the current one first."""
        keys = [self.secret.get_secret_value()]
        if self.previous_secret is not None:
            keys.append(self.previous_secret.get_secret_value())
        return keys


class EmailSinkConfig(SinkBase):
    """SMTP submission with STARTTLS (port 587) or implicit TLS (port 465); never in clear."""

    type: Literal["email"]
    host: str = Field(min_length=1)
    port: int = Field(default=587, ge=1, le=65535)
    security: Literal["starttls", "tls"] = "starttls"
    username: str | None = None
    password: SecretStr | None = None
    sender: str = Field(pattern=r"^[^@\s<>]+@[^@\s<>]+$")
    to: list[Annotated[str, Field(pattern=r"^[^@\s<>]+@[^@\s<>]+$")]] = Field(min_length=1)
    timeout: float = Field(default=20.0, gt=0, le=300)

    @model_validator(mode="after")
    def _credentials(self) -> EmailSinkConfig:
        if (self.username is None) != (self.password is None):
            raise ValueError("give both username and password, or neither")
        return self


class ApiSinkBase(SinkBase):
    """A sink that calls an incident service's API (PagerDuty, Opsgenie) with a key.

    The key is the secret; the URL is not (it defaults to the service's public endpoint, is
    shown by ``check``, and changes only for a region or a local test server), yet it is
    checked against R21 all the same, since the key travels with every request to it.
    """

    allow_private: bool = Field(
        default=False,
        description="ESCAPE HATCH for tests and local development only: allow http:// and "
        "loopback/private/IP-literal destinations. Off by default; never set in production.",
    )
    timeout: float = Field(default=10.0, gt=0, le=120, description="Seconds per request.")

    @property
    def endpoint(self) -> str:
        """The URL the key is sent to: what ``alerts.allow_hosts`` is checked against."""
        raise NotImplementedError


class PagerDutySinkConfig(ApiSinkBase):
    """PagerDuty Events API v2: one alert per finding, its fingerprint as ``dedup_key`` (R7)."""

    type: Literal["pagerduty"]
    # After allow_private (in the base): a field validator sees only the fields before it.
    url: str = Field(
        default=PAGERDUTY_EVENTS_URL,
        description="The Events API v2 endpoint; an EU service region uses "
        "https://events.eu.pagerduty.com/v2/enqueue.",
    )
    routing_key: SecretStr = Field(
        description="The Integration Key of the service's Events API v2 integration."
    )

    @property
    def endpoint(self) -> str:
        return self.url

    @field_validator("url")
    @classmethod
    def _safe_url(cls, value: str, info: ValidationInfo) -> str:
        _check_destination(value, info)
        return value

    @model_validator(mode="after")
    def _routing_key_shape(self) -> PagerDutySinkConfig:
        # Checked here rather than on the field: a field's error carries the given value as
        # its input, and the config loader would print it next to the key.
        if not _ROUTING_KEY.match(self.routing_key.get_secret_value()):
            raise ValueError(
                "routing_key: expected the 32-character Integration Key of an "
                "Events API v2 integration"
            )
        return self


class OpsgenieSinkConfig(ApiSinkBase):
    """The Opsgenie Alert API: one alert per finding, its fingerprint as ``alias`` (R7)."""

    type: Literal["opsgenie"]
    api_url: str = Field(
        default=OPSGENIE_API_URL,
        description=f"{OPSGENIE_API_URL}, or {OPSGENIE_EU_API_URL} for an EU account.",
    )
    api_key: SecretStr = Field(
        description="The key of an Opsgenie API integration (sent as Authorization: GenieKey)."
    )

    @property
    def endpoint(self) -> str:
        return self.api_url

    @field_validator("api_url")
    @classmethod
    def _safe_api_url(cls, value: str, info: ValidationInfo) -> str:
        _check_destination(value, info)
        if "?" in value or "#" in value:
            raise ValueError(f"expected a base URL such as {OPSGENIE_API_URL}, without a query")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _api_key_shape(self) -> OpsgenieSinkConfig:
        # On the model, not the field, for the reason given on PagerDutySinkConfig.
        key = self.api_key.get_secret_value()
        if len(key) < 16 or any(c.isspace() for c in key):
            raise ValueError(
                "api_key: expected the integration's API key alone (no "
                "'GenieKey' prefix, no spaces)"
            )
        return self


SinkConfig = Annotated[
    TeamsSinkConfig
    | SlackSinkConfig
    | WebhookSinkConfig
    | EmailSinkConfig
    | PagerDutySinkConfig
    | OpsgenieSinkConfig,
    Field(discriminator="type"),
]
HttpSinkConfig = TeamsSinkConfig | SlackSinkConfig | WebhookSinkConfig


class Silence(_Model):
    """Suppress notifications for a customer and/or a rule until ``expires_at``.

    Findings are still stored and evaluated; a finding still firing when the silence ends
    notifies once (R8).
    """

    customer: str | None = Field(default=None, description="Customer tenant id.")
    rule: str | None = None
    expires_at: datetime
    comment: str = ""

    @field_validator("customer")
    @classmethod
    def _guid(cls, value: str | None) -> str | None:
        if value is not None and not _GUID.match(value):
            raise ValueError("expected a customer tenant id (GUID)")
        return value.lower() if value else value

    @field_validator("expires_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("expected a time with a zone, e.g. 2026-12-01T00:00:00Z")
        return value

    @model_validator(mode="after")
    def _matches_something(self) -> Silence:
        if self.customer is None and self.rule is None:
            raise ValueError("a silence needs a customer, a rule, or both")
        return self

    def matches(self, customer: str | None, rule: str, now: datetime) -> bool:
        if now >= self.expires_at:
            return False
        if self.customer is not None and (customer or "").lower() != self.customer:
            return False
        return self.rule is None or self.rule == rule


class AlertsConfig(_Model):
    """Everything under ``[alerts]``."""

    sinks: list[SinkConfig] = []
    silences: list[Silence] = []
    group_max_items: int = Field(
        default=10, ge=1, le=100, description="Items listed in a grouped message."
    )
    repeat_interval: timedelta = Field(default=timedelta(hours=24))
    delivery_deadline: timedelta = Field(
        default=timedelta(hours=6), description="Give up retrying a message after this long."
    )
    heartbeat_allow_private: bool = Field(
        default=False, description="Escape hatch (tests, self-hosted healthchecks on a LAN)."
    )
    heartbeat_url: SecretStr | None = None
    allow_hosts: list[str] = Field(
        default=[],
        description="If set, the hosts of sink URLs (webhooks and the PagerDuty and Opsgenie "
        "APIs) must equal or end with one of these, e.g. "
        '["logic.azure.com", "api.powerplatform.com", "hooks.slack.com", "pagerduty.com"].',
    )

    _durations = field_validator("repeat_interval", "delivery_deadline", mode="before")(
        lambda cls, v: parse_duration(v)
    )

    @field_validator("repeat_interval", "delivery_deadline")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError("expected a positive duration")
        return value

    @field_validator("allow_hosts")
    @classmethod
    def _hosts(cls, value: list[str]) -> list[str]:
        return [h.strip().lower().lstrip("*").lstrip(".").rstrip(".") for h in value if h.strip()]

    @field_validator("heartbeat_url")
    @classmethod
    def _heartbeat(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        if value is None:
            return None
        try:
            check_url(
                value.get_secret_value(),
                allow_private=bool(info.data.get("heartbeat_allow_private", False)),
                resolve=_resolver(info),
            )
        except UnsafeUrl as exc:
            raise ValueError(str(exc)) from None
        return value

    @model_validator(mode="after")
    def _sinks(self) -> AlertsConfig:
        names = [s.name for s in self.sinks]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"sink names must be unique: {', '.join(duplicates)}")
        if self.allow_hosts:
            for sink in self.sinks:
                url = _destination(sink)
                if url is not None:
                    host = _host_of(url)
                    if not host_allowed(host, self.allow_hosts):
                        raise ValueError(
                            f"sink {sink.name!r}: host {host!r} is not in alerts.allow_hosts"
                        )
        return self

    def sink(self, name: str) -> SinkConfig:
        for sink in self.sinks:
            if sink.name == name:
                return sink
        known = ", ".join(s.name for s in self.sinks) or "none configured"
        raise UnknownSink(f"no sink named {name!r} (known: {known})")

    @classmethod
    def of(cls, section: Any) -> AlertsConfig:
        """Adopt the app's ``[alerts]`` section when it mounts these fields on its own class.

        Nested sink and silence models are taken as they are (not validated, nor resolved,
        again)."""
        if isinstance(section, AlertsConfig):
            return section
        return cls.model_validate(section, from_attributes=True)


class UnknownSink(KeyError):
    """``alerts test --sink NAME`` named a sink that is not configured."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "unknown sink"


def _destination(sink: SinkBase) -> str | None:
    """The URL ``allow_hosts`` governs: none for e-mail or behind the ``allow_private`` hatch."""
    if isinstance(sink, HttpSinkBase) and not sink.allow_private:
        return sink.url.get_secret_value()
    if isinstance(sink, ApiSinkBase) and not sink.allow_private:
        return sink.endpoint
    return None


def _host_of(url: str) -> str:
    return (httpx.URL(url).host or "").lower().rstrip(".")
