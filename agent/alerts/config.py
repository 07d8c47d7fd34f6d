"""Settings of the alerting layer, as pydantic models the config owner mounts under ``[alerts]``.

The section holds the sinks (each validated by its own config model, kept in its sink's module
and registered once in ``agent.alerts.sinks``), silences, grouping and repeat intervals, the
heartbeat and the hosts sink URLs may go to. Every model forbids unknown keys; every secret is a
``SecretStr``.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import httpx
from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator

from agent.alerts.settings import StrictModel, resolver_of
from agent.alerts.sinks import SinkConfig
from agent.alerts.sinks.config import ApiSinkBase, HttpSinkBase, SinkBase
from agent.alerts.urls import UnsafeUrl, check_url, host_allowed
from agent.durations import parse_duration

_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")


class Silence(StrictModel):
    """Suppress notifications for a customer and/or a rule until ``expires_at``.

    Findings are still stored and evaluated; a finding still firing when the silence ends
    notifies once (guarantee grouping-silences).
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


class AlertsConfig(StrictModel):
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
                resolve=resolver_of(info),
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
