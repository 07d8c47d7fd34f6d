"""The sinks, one module per channel, and the registry that builds them from config.

``SINK_TYPES`` is where a sink type is registered, once: its config ``type`` → the config
model, the sink class, how it is connected (its own guarded HTTP client, or SMTP) and which of
its settings are secrets. The ``SinkConfig`` union the ``[alerts]`` section validates sinks
with is built from it, and :func:`build_sink` loops over it; nothing else names a sink type.
Adding a sink: its module (the sink class and its config model), one line here, its test.
"""

from __future__ import annotations

import ssl
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any, TypeAlias, Union

import httpx
from pydantic import Field

from agent import logging as plog
from agent.alerts.sinks.autotask import AutotaskSink, AutotaskSinkConfig, autotask_secrets
from agent.alerts.sinks.base import Clock, DeliveryResult, Sink, http_secrets
from agent.alerts.sinks.config import ApiSinkBase, HttpSinkBase, SinkBase
from agent.alerts.sinks.connectwise import (
    ConnectWiseSink,
    ConnectWiseSinkConfig,
    connectwise_secrets,
)
from agent.alerts.sinks.email import (
    EmailSink,
    EmailSinkConfig,
    SmtpFactory,
    default_smtp,
    email_secrets,
)
from agent.alerts.sinks.halopsa import HaloPsaSink, HaloPsaSinkConfig, halopsa_secrets
from agent.alerts.sinks.opsgenie import OpsgenieSink, OpsgenieSinkConfig, opsgenie_secrets
from agent.alerts.sinks.pagerduty import PagerDutySink, PagerDutySinkConfig, pagerduty_secrets
from agent.alerts.sinks.slack import SlackSink, SlackSinkConfig
from agent.alerts.sinks.teams import TeamsSink, TeamsSinkConfig
from agent.alerts.sinks.webhook import WebhookSink, WebhookSinkConfig, webhook_secrets
from agent.alerts.urls import AsyncResolver, async_system_resolver, guarded_client

__all__ = [
    "SINK_TYPES",
    "AutotaskSink",
    "ConnectWiseSink",
    "DeliveryResult",
    "EmailSink",
    "HaloPsaSink",
    "OpsgenieSink",
    "PagerDutySink",
    "Seams",
    "Sink",
    "SinkConfig",
    "SinkType",
    "SlackSink",
    "TeamsSink",
    "WebhookSink",
    "build_sink",
    "over_http",
    "over_smtp",
    "sink_secrets",
    "sink_type",
]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Seams:
    """What building a sink may take besides its config; production passes the defaults,
    tests a ``MockTransport``, a fake resolver, a local SMTP server's TLS context."""

    clock: Clock = utc_now
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


SINK_TYPES: Mapping[str, SinkType] = {
    "teams": SinkType(TeamsSinkConfig, TeamsSink, over_http, http_secrets),
    "slack": SinkType(SlackSinkConfig, SlackSink, over_http, http_secrets),
    "webhook": SinkType(WebhookSinkConfig, WebhookSink, over_http, webhook_secrets),
    "email": SinkType(EmailSinkConfig, EmailSink, over_smtp, email_secrets),
    "pagerduty": SinkType(PagerDutySinkConfig, PagerDutySink, over_http, pagerduty_secrets),
    "opsgenie": SinkType(OpsgenieSinkConfig, OpsgenieSink, over_http, opsgenie_secrets),
    "connectwise": SinkType(ConnectWiseSinkConfig, ConnectWiseSink, over_http, connectwise_secrets),
    "autotask": SinkType(AutotaskSinkConfig, AutotaskSink, over_http, autotask_secrets),
    "halopsa": SinkType(HaloPsaSinkConfig, HaloPsaSink, over_http, halopsa_secrets),
}

if TYPE_CHECKING:
    SinkConfig: TypeAlias = SinkBase
    """To the type checker, any sink's config: the union below is built at run time."""
else:
    SinkConfig = Annotated[
        Union[tuple(registered.config for registered in SINK_TYPES.values())],  # noqa: UP007
        Field(discriminator="type"),
    ]
    """Every registered config model, told apart by its ``type``, in registry order."""


def sink_type(config: SinkBase, registry: Mapping[str, SinkType] = SINK_TYPES) -> SinkType:
    """The registered type whose config model ``config`` is."""
    for registered in registry.values():
        if type(config) is registered.config:
            return registered
    raise TypeError(f"no sink type is registered for {type(config).__name__}")


def sink_secrets(config: SinkBase, registry: Mapping[str, SinkType] = SINK_TYPES) -> list[str]:
    return sink_type(config, registry).secrets(config)


def build_sink(
    config: SinkBase,
    *,
    clock: Clock = utc_now,
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
