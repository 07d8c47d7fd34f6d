"""PagerDuty through the Events API v2: one event per finding, its fingerprint as
``dedup_key`` (R7; see :mod:`agent.alerts.sinks.incident`).

A repeat trigger with the same ``dedup_key`` joins the open alert instead of paging again, and a
``resolve`` with that key closes it. PagerDuty answers 202 Accepted; 429 (the Events API allows
about 120 events a minute per integration key) and 5xx are worth retrying, 400 (an invalid
event) is not.
"""

from __future__ import annotations

from typing import Any

import httpx

from agent.alerts.config import PagerDutySinkConfig
from agent.alerts.message import Message
from agent.alerts.sinks.base import Clock, clip
from agent.alerts.sinks.incident import (
    SOURCE,
    IncidentApiSink,
    Member,
    details,
    severity_of,
    summary_of,
)

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
