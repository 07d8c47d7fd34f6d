"""Opsgenie through its Alert API: one alert per finding, its fingerprint as ``alias`` (guarantee
dedup-and-repeat).

Opsgenie keeps one open alert per alias: creating it again while it is open only raises its
count, and closing by alias (``identifierType=alias``) needs no id of ours to remember. Both
requests are processed asynchronously and answered 202 Accepted; 429 and 5xx are worth
retrying, 400 and 422 (an invalid request) and 401/403 (a wrong key) are not. Limits:
message 130 characters, alias 512, description 15,000, at most 20 tags of 50.
"""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import quote

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
from agent.escape import for_plain_text

OPSGENIE_API_URL = "https://api.opsgenie.com"
OPSGENIE_EU_API_URL = "https://api.eu.opsgenie.com"


class OpsgenieSinkConfig(ApiSinkBase):
    """The Opsgenie Alert API: one alert per finding, its fingerprint as ``alias`` (guarantee
    dedup-and-repeat)."""

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
        check_destination(value, info)
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


def opsgenie_secrets(config: OpsgenieSinkConfig) -> list[str]:
    """What the log redactor must know: the API key."""
    return [config.api_key.get_secret_value()]


PRIORITY = {"critical": "P1", "high": "P2", "medium": "P3", "low": "P4", "info": "P5"}


def description(message: Message, member: Member) -> str:
    """The summary, then each detail on a line of its own: Opsgenie shows it as plain text,
    where ``details`` appear as a table further down."""
    lines = [summary_of(message, member), ""]
    lines += [
        f"{key.replace('_', ' ')}: {value}" for key, value in details(message, member).items()
    ]
    return "\n".join(lines)[:15_000]


def alert(message: Message, member: Member) -> dict[str, Any]:
    """The create-alert body for one firing finding."""
    item = member.item
    severity = severity_of(message, member)
    title = for_plain_text(item.title) if item is not None else summary_of(message, member)
    tags = [
        SOURCE,
        message.rule,
        severity,
        *([item.link_kind] if item and item.link_kind else []),
        *(["test"] if message.test else []),
    ]
    body: dict[str, Any] = {
        "message": clip(title, 130),
        "alias": member.fingerprint,
        "description": description(message, member),
        "priority": PRIORITY.get(severity, "P5"),
        "details": details(message, member),
        "source": SOURCE,
        "tags": [clip(tag, 50) for tag in tags][:20],
    }
    if item is not None:
        body["entity"] = clip(for_plain_text(item.customer), 512)
    return body


def close(message: Message, member: Member) -> dict[str, Any]:
    return {"source": SOURCE, "note": clip(f"Resolved: {summary_of(message, member)}", 1000)}


class OpsgenieSink(IncidentApiSink):
    kind = "opsgenie"

    def __init__(
        self, config: OpsgenieSinkConfig, client: httpx.AsyncClient, *, clock: Clock
    ) -> None:
        super().__init__(config, client, clock=clock, key=config.api_key.get_secret_value())
        self._alerts = f"{config.api_url}/v2/alerts"
        self._headers = {"Authorization": f"GenieKey {config.api_key.get_secret_value()}"}

    async def deliver(self, message: Message, member: Member) -> None:
        if message.resolved:
            alias = quote(member.fingerprint, safe="")
            await self.post(
                f"{self._alerts}/{alias}/close?identifierType=alias",
                close(message, member),
                self._headers,
            )
        else:
            await self.post(self._alerts, alert(message, member), self._headers)
