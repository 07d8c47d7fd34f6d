"""The configured sinks of an ``[alerts]`` section: every enabled one built through the sink
registry into one set that closes them together, their secrets told to the log redactor first.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator, Mapping
from types import TracebackType

import httpx

from agent import logging as plog
from agent.alerts.config import AlertsConfig
from agent.alerts.sinks import SINK_TYPES, SinkType, build_sink, sink_secrets, utc_now
from agent.alerts.sinks.base import Clock, Sink, url_secrets
from agent.alerts.sinks.email import SmtpFactory, default_smtp
from agent.alerts.urls import AsyncResolver, async_system_resolver


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
    clock: Clock = utc_now,
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
