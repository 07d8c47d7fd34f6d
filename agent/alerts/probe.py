"""``partnerlink alerts test --sink NAME``: one sample message through the real sink, bypassing
the outbox, so an operator sees at once whether a URL, a signature or an SMTP login works."""

from __future__ import annotations

import ssl
from datetime import UTC, datetime

import httpx

from agent.alerts.config import AlertsConfig
from agent.alerts.grouping import idempotency_key
from agent.alerts.message import Action, AlertItem, Kind, Message
from agent.alerts.sinks import build_sink
from agent.alerts.sinks.base import Clock, DeliveryResult
from agent.alerts.sinks.email import SmtpFactory, default_smtp
from agent.alerts.urls import AsyncResolver, async_system_resolver


def _utc_now() -> datetime:
    return datetime.now(UTC)


def sample_message(now: datetime) -> Message:
    """A clearly labelled test message that looks like a real first notification."""
    key = "test-" + now.strftime("%Y%m%dT%H%M%S")
    item = AlertItem(
        fingerprint=key,
        rule="test",
        severity="info",
        status="open",
        title="Test notification from partnerlink: no action needed",
        subject="alerts test",
        customer_tenant_id=None,
        remediation="Nothing to do: this message checks that the sink works.",
        first_seen=now,
    )
    return Message(
        dedup_key=key,
        idempotency_key=idempotency_key(key, Kind.FIRST, None, now),
        kind=Kind.FIRST,
        action=Action.FIRST,
        rule="test",
        rule_title="Test",
        severity="info",
        title="Test notification from partnerlink",
        total=1,
        items=(item,),
        fingerprints=(key,),
        run_id=None,
        created_at=now,
        test=True,
    )


async def send_test(
    config: AlertsConfig,
    sink_name: str,
    *,
    clock: Clock = _utc_now,
    transport: httpx.AsyncBaseTransport | None = None,
    resolve: AsyncResolver = async_system_resolver,
    ssl_context: ssl.SSLContext | None = None,
    smtp_factory: SmtpFactory = default_smtp,
) -> DeliveryResult:
    """Send a sample message through sink ``sink_name`` (enabled or not).

    Raises ``UnknownSink`` for a name that is not configured, and ``TransientDeliveryError``
    or ``PermanentDeliveryError`` when the sink refuses; neither message contains a secret.
    """
    sink = build_sink(
        config.sink(sink_name),
        clock=clock,
        transport=transport,
        resolve=resolve,
        ssl_context=ssl_context,
        smtp_factory=smtp_factory,
    )
    try:
        return await sink.send(sample_message(clock()))
    finally:
        await sink.aclose()
