"""A generic JSON webhook, signed so the receiver can trust it.

Headers: ``X-Partnerlink-Signature: sha256=<hex HMAC-SHA256 of the raw body, keyed with the
sink's secret>``, ``X-Partnerlink-Timestamp`` (Unix seconds, for the receiver's freshness
check) and ``Idempotency-Key`` (the finding's dedup key + kind + run: the same on every retry
of one message, so a receiver can drop duplicates of at-least-once delivery).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import httpx

from agent.alerts.config import WebhookSinkConfig
from agent.alerts.message import Message
from agent.alerts.sinks.base import Clock, DeliveryResult, HttpSink

SIGNATURE_HEADER = "X-Partnerlink-Signature"
TIMESTAMP_HEADER = "X-Partnerlink-Timestamp"
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


def sign(secret: str, raw: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode("utf-8"), raw, hashlib.sha256).hexdigest()


def verify(secret: str, raw: bytes, signature: str) -> bool:
    """What a receiver does (and what the tests do)."""
    return hmac.compare_digest(sign(secret, raw), signature)


class WebhookSink(HttpSink):
    kind = "webhook"

    def __init__(
        self, config: WebhookSinkConfig, client: httpx.AsyncClient, *, clock: Clock
    ) -> None:
        super().__init__(config, client, clock=clock)
        self._secret = config.secret.get_secret_value()
        self.secrets = (*self.secrets, self._secret)

    async def send(self, message: Message) -> DeliveryResult:
        raw = body(message)
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(self._secret, raw),
            TIMESTAMP_HEADER: str(int(self.clock().timestamp())),
            IDEMPOTENCY_HEADER: message.idempotency_key,
            "X-Partnerlink-Event": message.kind.value,
        }
        return await self.post(raw, headers)
