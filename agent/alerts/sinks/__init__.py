"""The sinks, one module per channel, and the registry that builds them from config.

``SINK_TYPES`` is where a sink type is registered, once: its config ``type`` → the config
model, the sink class, how it is connected (its own guarded HTTP client, or SMTP) and which of
its settings are secrets. :func:`build_sink` loops over the registry; nothing else names a
sink type. Adding a sink: its module, its config model in ``agent.alerts.config`` (the
``SinkConfig`` union), one line here, its test.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

import httpx

from agent import logging as plog
from agent.alerts.config import (
    AlertsConfig,
    ApiSinkBase,
    EmailSinkConfig,
    HttpSinkBase,
    OpsgenieSinkConfig,
    PagerDutySinkConfig,
    SinkBase,
    SlackSinkConfig,
    TeamsSinkConfig,
    WebhookSinkConfig,
)
from agent.alerts.sinks.base import Clock, DeliveryResult, Sink, url_secrets
from agent.alerts.sinks.email import EmailSink, SmtpFactory, default_smtp
from agent.alerts.sinks.opsgenie import OpsgenieSink
from agent.alerts.sinks.pagerduty import PagerDutySink
from agent.alerts.sinks.slack import SlackSink
from agent.alerts.sinks.teams import TeamsSink
from agent.alerts.sinks.webhook import WebhookSink
from agent.alerts.urls import AsyncResolver, async_system_resolver, guarded_client

__all__ = [
    "SINK_TYPES",
    "DeliveryResult",
    "EmailSink",
    "OpsgenieSink",
    "PagerDutySink",
    "Seams",
    "Sink",
    "SinkSet",
    "SinkType",
    "SlackSink",
    "TeamsSink",
    "WebhookSink",
    "build_sink",
    "build_sinks",
    "register_alert_secrets",
    "sink_type",
]


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Seams:
    """What building a sink may take besides its config; production passes the defaults,
    tests a ``MockTransport``, a fake resolver, a local SMTP server's TLS context."""

    clock: Clock = _utc_now
    transport: httpx.AsyncBaseTransport | None = None
    resolve: AsyncResolver = async_system_resolver
    ssl_context: ssl.SSLContext | None = None
    smtp_factory: SmtpFactory = default_smtp

    def client(self, config: HttpSinkBase | ApiSinkBase) -> httpx.AsyncClient:
        """A guarded HTTP client of the sink's own: checked destinations, no redirects."""
        return guarded_client(
            allow_private=config.allow_private,
            timeout=config.timeout,
            transport=self.transport,
            resolve=self.resolve,
        )


Connect = Callable[[Any, Any, Seams], Sink]
"""(sink class, its config, the seams) → the sink."""


def over_http(cls: Any, config: Any, seams: Seams) -> Sink:
    """A sink that posts through one guarded HTTP client of its own."""
    sink: Sink = cls(config, seams.client(config), clock=seams.clock)
    return sink


def over_smtp(cls: Any, config: Any, seams: Seams) -> Sink:
    """A sink that submits mail over TLS."""
    sink: Sink = cls(
        config, clock=seams.clock, ssl_context=seams.ssl_context, smtp_factory=seams.smtp_factory
    )
    return sink


@dataclass(frozen=True, slots=True)
class SinkType:
    """One kind of sink, as the registry knows it."""

    config: type[SinkBase]
    sink: type[Any]
    connect: Connect
    secrets: Callable[[Any], list[str]]
    """The values of its config the log redactor must know, so no log line shows them."""

    @property
    def kind(self) -> str:
        return str(self.sink.kind)

    def build(self, config: SinkBase, seams: Seams) -> Sink:
        return self.connect(self.sink, config, seams)


def _url(config: HttpSinkBase) -> list[str]:
    return url_secrets(config.url.get_secret_value())


def _webhook(config: WebhookSinkConfig) -> list[str]:
    return [*_url(config), *config.signing_secrets()]


def _email(config: EmailSinkConfig) -> list[str]:
    return [] if config.password is None else [config.password.get_secret_value()]


def _pagerduty(config: PagerDutySinkConfig) -> list[str]:
    return [config.routing_key.get_secret_value()]


def _opsgenie(config: OpsgenieSinkConfig) -> list[str]:
    return [config.api_key.get_secret_value()]


SINK_TYPES: Mapping[str, SinkType] = {
    "teams": SinkType(TeamsSinkConfig, TeamsSink, over_http, _url),
    "slack": SinkType(SlackSinkConfig, SlackSink, over_http, _url),
    "webhook": SinkType(WebhookSinkConfig, WebhookSink, over_http, _webhook),
    "email": SinkType(EmailSinkConfig, EmailSink, over_smtp, _email),
    "pagerduty": SinkType(PagerDutySinkConfig, PagerDutySink, over_http, _pagerduty),
    "opsgenie": SinkType(OpsgenieSinkConfig, OpsgenieSink, over_http, _opsgenie),
}


def sink_type(config: SinkBase, registry: Mapping[str, SinkType] = SINK_TYPES) -> SinkType:
    """The registered type whose config model ``config`` is."""
    for registered in registry.values():
        if type(config) is registered.config:
            return registered
    raise TypeError(f"no sink type is registered for {type(config).__name__}")


def sink_secrets(config: SinkBase, registry: Mapping[str, SinkType] = SINK_TYPES) -> list[str]:
    return sink_type(config, registry).secrets(config)


def register_alert_secrets(
    config: AlertsConfig, registry: Mapping[str, SinkType] = SINK_TYPES
) -> None:
    """Tell the log redactor every alerting secret; harmless to call twice."""
    values: list[str] = []
    for sink in config.sinks:
        values += sink_secrets(sink, registry)
    if config.heartbeat_url is not None:
        values += url_secrets(config.heartbeat_url.get_secret_value())
    plog.register_secrets(values)


def build_sink(
    config: SinkBase,
    *,
    clock: Clock = _utc_now,
    transport: httpx.AsyncBaseTransport | None = None,
    resolve: AsyncResolver = async_system_resolver,
    ssl_context: ssl.SSLContext | None = None,
    smtp_factory: SmtpFactory = default_smtp,
    registry: Mapping[str, SinkType] = SINK_TYPES,
) -> Sink:
    """One sink from its config, built as its registered type says. ``transport``,
    ``resolve``, ``ssl_context`` and ``smtp_factory`` are the seams tests use; production
    passes none of them."""
    registered = sink_type(config, registry)
    plog.register_secrets(registered.secrets(config))
    seams = Seams(clock, transport, resolve, ssl_context, smtp_factory)
    return registered.build(config, seams)


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
    registry: Mapping[str, SinkType] = SINK_TYPES,
) -> SinkSet:
    """Every enabled sink of ``config`` (HTTP clients are opened here: use ``async with``)."""
    register_alert_secrets(config, registry)
    return SinkSet(
        {
            s.name: build_sink(
                s,
                clock=clock,
                transport=transport,
                resolve=resolve,
                ssl_context=ssl_context,
                smtp_factory=smtp_factory,
                registry=registry,
            )
            for s in config.sinks
            if s.enabled or include_disabled
        }
    )
