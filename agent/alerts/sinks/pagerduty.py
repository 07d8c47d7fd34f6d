"""PagerDuty through the Events API v2: one event per finding, its fingerprint as
``dedup_key`` (guarantee dedup-and-repeat; see :mod:`agent.alerts.sinks.incident`).

A repeat trigger with the same ``dedup_key`` joins the open alert instead of paging again, and a
``resolve`` with that key closes it. PagerDuty answers 202 Accepted; 429 (the Events API allows
about 120 events a minute per integration key) and 5xx are worth retrying, 400 (an invalid
event) is not.
"""

from __future__ import annotations

import re
from typing import Any, Literal

import httpx
from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator

from agent.alerts.message import Message
from agent.alerts.settings import check_destination
from agent.alerts.sinks.base import Clock, clip
from agent.alerts.sinks.config import ApiSinkBase
from agent.alerts.sinks.incident import (
    SOURCE,
    IncidentApiSink,
    Member,
    details,
    severity_of,
    summary_of,
)

PAGERDUTY_EVENTS_URL = "https://events.pagerduty.com/v2/enqueue"
_ROUTING_KEY = re.compile(r"^[A-Za-z0-9]{32}$")


class PagerDutySinkConfig(ApiSinkBase):
    """PagerDuty Events API v2: one alert per finding, its fingerprint as ``dedup_key`` (guarantee
    dedup-and-repeat)."""

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
        check_destination(value, info)
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


def pagerduty_secrets(config: PagerDutySinkConfig) -> list[str]:
    """What the log redactor must know: the routing key."""
    return [config.routing_key.get_secret_value()]


SEVERITY = {
    "critical": "critical",
    "high": "error",
    "medium": "warning",
    "low": "info",
    "info": "info",
}
"""Ours to PagerDuty's four; a name we do not know is treated as info, as ``severity_rank``
does."""


def event(message: Message, member: Member, routing_key: str) -> dict[str, Any]:
    """The Events API v2 body for one finding: a trigger while it fires, else a resolve."""
    base = {"routing_key": routing_key, "dedup_key": member.fingerprint}
    if message.resolved:
        return {**base, "event_action": "resolve"}
    return {
        **base,
        "event_action": "trigger",
        "payload": {
            "summary": clip(summary_of(message, member), 1024),
            "source": SOURCE,
            "severity": SEVERITY.get(severity_of(message, member), "info"),
            "timestamp": message.created_at.isoformat(),
            "class": message.rule,
            "custom_details": details(message, member),
        },
    }


class PagerDutySink(IncidentApiSink):
    kind = "pagerduty"

    def __init__(
        self, config: PagerDutySinkConfig, client: httpx.AsyncClient, *, clock: Clock
    ) -> None:
        super().__init__(config, client, clock=clock, key=config.routing_key.get_secret_value())
        self._url = config.url
        self._routing_key = config.routing_key.get_secret_value()

    async def deliver(self, message: Message, member: Member) -> None:
        await self.post(self._url, event(message, member, self._routing_key))
