"""The sinks, one module per channel, and the one function that builds them from config.

``SINK_TYPES`` is the readable registry: a config ``type`` to the class that serves it.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from types import TracebackType

import httpx

from agent import logging as plog
from agent.alerts.config import (
    AlertsConfig,
    EmailSinkConfig,
    HttpSinkBase,
    OpsgenieSinkConfig,
    PagerDutySinkConfig,
    SinkConfig,
    SlackSinkConfig,
    TeamsSinkConfig,
    WebhookSinkConfig,
)
from agent.alerts.sinks.base import Clock, DeliveryResult, HttpSink, Sink, url_secrets
from agent.alerts.sinks.email import EmailSink, SmtpFactory, default_smtp
from agent.alerts.sinks.incident import IncidentApiSink
from agent.alerts.sinks.opsgenie import OpsgenieSink
from agent.alerts.sinks.pagerduty import PagerDutySink
from agent.alerts.sinks.slack import SlackSink
from agent.alerts.sinks.teams import TeamsSink
from agent.alerts.sinks.webhook import WebhookSink
from agent.alerts.urls import AsyncResolver, async_system_resolver, guarded_client

SINK_TYPES: Mapping[str, type[HttpSink] | type[EmailSink] | type[IncidentApiSink]] = {
    "teams": TeamsSink,
    "slack": SlackSink,
    "webhook": WebhookSink,
    "email": EmailSink,
    "pagerduty": PagerDutySink,
    "opsgenie": OpsgenieSink,
}

__all__ = [
    "SINK_TYPES",
    "DeliveryResult",
    "EmailSink",
    "OpsgenieSink",
    "PagerDutySink",
    "Sink",
    "SinkSet",
    "SlackSink",
    "TeamsSink",
    "WebhookSink",
    "build_sink",
    "build_sinks",
    "register_alert_secrets",
]


def _utc_now() -> datetime:
    return datetime.now(UTC)


def sink_secrets(config: SinkConfig) -> list[str]:
    found: list[str] = []
    if isinstance(config, HttpSinkBase):
        found += url_secrets(config.url.get_secret_value())
    if isinstance(config, WebhookSinkConfig):
        found += config.signing_secrets()
    if isinstance(config, EmailSinkConfig) and config.password is not None:
        found.append(config.password.get_secret_value())
    if isinstance(config, PagerDutySinkConfig):
        found.append(config.routing_key.get_secret_value())
    if isinstance(config, OpsgenieSinkConfig):
        found.append(config.api_key.get_secret_value())
    return found


def register_alert_secrets(config: AlertsConfig) -> None:
    """Tell the log redactor every alerting secret (R19); harmless to call twice."""
    values: list[str] = []
    for sink in config.sinks:
        values += sink_secrets(sink)
    if config.heartbeat_url is not None:
        values += url_secrets(config.heartbeat_url.get_secret_value())
    plog.register_secrets(values)


def build_sink(
    config: SinkConfig,
    *,
    clock: Clock = _utc_now,
    transport: httpx.AsyncBaseTransport | None = None,
    resolve: AsyncResolver = async_system_resolver,
    ssl_context: ssl.SSLContext | None = None,
    smtp_factory: SmtpFactory = default_smtp,
) -> Sink:
    """One sink from its config. ``transport``, ``resolve``, ``ssl_context`` and
    ``smtp_factory`` are the seams tests use; production passes none of them."""
    plog.register_secrets(sink_secrets(config))
    if isinstance(config, EmailSinkConfig):
        return EmailSink(config, clock=clock, ssl_context=ssl_context, smtp_factory=smtp_factory)
    client = guarded_client(
        allow_private=config.allow_private,
        timeout=config.timeout,
        transport=transport,
        resolve=resolve,
    )
    if isinstance(config, WebhookSinkConfig):
        return WebhookSink(config, client, clock=clock)
    if isinstance(config, TeamsSinkConfig):
        return TeamsSink(config, client, clock=clock)
    if isinstance(config, SlackSinkConfig):
        return SlackSink(config, client, clock=clock)
    if isinstance(config, PagerDutySinkConfig):
        return PagerDutySink(config, client, clock=clock)
    if isinstance(config, OpsgenieSinkConfig):
        return OpsgenieSink(config, client, clock=clock)
    raise TypeError(f"no sink for {type(config).__name__}")  # pragma: no cover


class SinkSet(Mapping[str, Sink]):
    """The configured, enabled sinks by name; an async context manager that closes them."""

    def __init__(self, sinks: Mapping[str, Sink]) -> None:
        self._sinks = dict(sinks)

    def __getitem__(self, name: str) -> Sink:
        return self._sinks[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._sinks)

    def __len__(self) -> int:
        return len(self._sinks)

    async def aclose(self) -> None:
        for sink in self._sinks.values():
            await sink.aclose()

    async def __aenter__(self) -> SinkSet:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


def build_sinks(
    config: AlertsConfig,
    *,
    clock: Clock = _utc_now,
    transport: httpx.AsyncBaseTransport | None = None,
    resolve: AsyncResolver = async_system_resolver,
    ssl_context: ssl.SSLContext | None = None,
    smtp_factory: SmtpFactory = default_smtp,
    include_disabled: bool = False,
) -> SinkSet:
    """Every enabled sink of ``config`` (HTTP clients are opened here: use ``async with``)."""
    register_alert_secrets(config)
    return SinkSet(
        {
            s.name: build_sink(
                s,
                clock=clock,
                transport=transport,
                resolve=resolve,
                ssl_context=ssl_context,
                smtp_factory=smtp_factory,
            )
            for s in config.sinks
            if s.enabled or include_disabled
        }
    )
