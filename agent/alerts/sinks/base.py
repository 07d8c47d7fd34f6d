"""The sink contract: a name and ``async send(message) -> DeliveryResult`` that raises a
:class:`~agent.alerts.errors.DeliveryError` saying whether retrying can help.

HTTP sinks share :class:`HttpSink`: one guarded client per sink (guarantee safe-urls), no redirects,
and a single place that turns an answer into success or an error without echoing the URL.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable
from urllib.parse import parse_qsl, urlsplit

import httpx

from agent.alerts.errors import error_for_exception, error_for_response
from agent.alerts.message import Message
from agent.alerts.sinks.config import HttpSinkBase

Clock = Callable[[], datetime]


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    """A delivery the sink accepted."""

    status_code: int | None = None
    detail: str = ""
    references: Mapping[str, str] = field(default_factory=dict)
    """fingerprint → the id the service gave that finding (a ticket or incident number): the
    dispatcher keeps it and hands it back in ``Message.references`` on every later message
    about that finding, the resolve included."""


@runtime_checkable
class Sink(Protocol):
    """One notification channel."""

    @property
    def name(self) -> str: ...

    @property
    def kind(self) -> str: ...

    async def send(self, message: Message) -> DeliveryResult:
        """Deliver or raise ``TransientDeliveryError`` / ``PermanentDeliveryError``; return the
        external ids the service gave findings, if it keeps any."""
        ...

    async def aclose(self) -> None: ...


def url_secrets(url: str) -> list[str]:
    """The parts of a webhook URL that are its credential: the whole URL, its query and each
    query value (Teams Workflows ``sig=``), and its path (Slack's token lives there)."""
    parts = urlsplit(url)
    found = [url, parts.query, *(value for _k, value in parse_qsl(parts.query))]
    if len(parts.path) > 12:
        found.append(parts.path)
    return [s for s in found if s and len(s) >= 6]


def http_secrets(config: HttpSinkBase) -> list[str]:
    """What the log redactor must know of a sink that posts to a URL: its credential parts."""
    return url_secrets(config.url.get_secret_value())


class HttpSink:
    """POST a rendered body to the sink's URL; subclasses render."""

    kind = "http"

    def __init__(self, config: HttpSinkBase, client: httpx.AsyncClient, *, clock: Clock) -> None:
        self.config = config
        self.client = client
        self.clock = clock
        self._url = config.url.get_secret_value()
        self.secrets: tuple[str, ...] = tuple(url_secrets(self._url))

    @property
    def name(self) -> str:
        return self.config.name

    async def post(self, body: bytes, headers: Mapping[str, str]) -> DeliveryResult:
        try:
            response = await self.client.post(self._url, content=body, headers=dict(headers))
        except httpx.HTTPError as exc:
            # `from None`: httpx's own message may carry the URL, and so would the chain.
            raise error_for_exception(exc, secrets=self.secrets) from None
        error = error_for_response(response, secrets=self.secrets, now=self.clock())
        if error is not None:
            raise error
        return DeliveryResult(response.status_code)

    async def aclose(self) -> None:
        await self.client.aclose()


def clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
