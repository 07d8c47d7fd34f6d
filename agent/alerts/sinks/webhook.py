"""A generic JSON webhook, signed so the receiver can trust it and refuse replays.

Headers: ``X-Partnerlink-Timestamp`` (Unix seconds, from the injected clock) and
``X-Partnerlink-Signature: v1=<hex HMAC-SHA256 of "<timestamp>.<body>">`` (one entry per key
while a secret is rotated), made and checked by :mod:`agent.alerts.signing`; and
``Idempotency-Key`` (the finding's dedup key + kind + run: the same on every retry of one
message, so a receiver can drop duplicates of at-least-once delivery).
"""

from __future__ import annotations

import json
from typing import Any, Literal

import httpx
from pydantic import Field, SecretStr, field_validator, model_validator

from agent.alerts import signing
from agent.alerts.message import Message
from agent.alerts.sinks.base import Clock, DeliveryResult, HttpSink, http_secrets
from agent.alerts.sinks.config import HttpSinkBase

SIGNATURE_HEADER = signing.SIGNATURE_HEADER
TIMESTAMP_HEADER = signing.TIMESTAMP_HEADER
IDEMPOTENCY_HEADER = "Idempotency-Key"
SCHEMA_VERSION = 1


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


def webhook_secrets(config: WebhookSinkConfig) -> list[str]:
    """What the log redactor must know: the URL's credential parts and the signing keys."""
    return [*http_secrets(config), *config.signing_secrets()]


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
