"""A generic JSON webhook, signed so the receiver can trust it and refuse replays.

Headers: ``X-Partnerlink-Timestamp`` (Unix seconds, from the injected clock) and
``X-Partnerlink-Signature: v1=<hex HMAC-SHA256 of "<timestamp>.<body>">`` (one entry per key
while a secret is rotated), made and checked by :mod:`agent.alerts.signing`; and
``Idempotency-Key`` (the finding's dedup key + kind + run: the same on every retry of one
message, so a receiver can drop duplicates of at-least-once delivery).
"""

from __future__ import annotations

import json
from typing import Any

import httpx

from agent.alerts import signing
from agent.alerts.config import WebhookSinkConfig
from agent.alerts.message import Message
from agent.alerts.sinks.base import Clock, DeliveryResult, HttpSink

SIGNATURE_HEADER = signing.SIGNATURE_HEADER
TIMESTAMP_HEADER = signing.TIMESTAMP_HEADER
IDEMPOTENCY_HEADER = "Idempotency-Key"
SCHEMA_VERSION = 1


def body(message: Message) -> bytes:
    data: dict[str, Any] = {
        "version": SCHEMA_VERSION,
        "summary": message.summary(),
        **message.model_dump(mode="json"),
    }
    # ASCII only: a name's control or direction characters travel as \u escapes, so the raw
    # body is inert wherever it is printed, and every JSON parser reads back the same text.
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode(
        "ascii"
    )


class WebhookSink(HttpSink):
    kind = "webhook"

    def __init__(
        self, config: WebhookSinkConfig, client: httpx.AsyncClient, *, clock: Clock
    ) -> None:
        super().__init__(config, client, clock=clock)
        self._keys = config.signing_secrets()
        self.secrets = (*self.secrets, *self._keys)

    async def send(self, message: Message) -> DeliveryResult:
        raw = body(message)
        # Signed per attempt: a retry carries a fresh timestamp, the same Idempotency-Key.
        timestamp = int(self.clock().timestamp())
        headers = {
            "Content-Type": "application/json",
            **signing.sign(self._keys, raw, timestamp),
            IDEMPOTENCY_HEADER: message.idempotency_key,
            "X-Partnerlink-Event": message.kind.value,
        }
        return await self.post(raw, headers)
