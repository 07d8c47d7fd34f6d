"""One try of a request on the wire, read whole under its cap: below httpx where the transport is
the connectors' own, through ``httpx.AsyncClient.send`` where it is not.

On the connectors' own transport (:class:`~connectors.http.transport.Http11Transport`) a try
is a :class:`~connectors.http.wire.WireRequest` written straight to a kept-alive connection and
its answer an :class:`~connectors.http.answer.Answer`: no ``httpx.URL`` parse, no
``httpx.Request``, no ``httpx.Response`` (nor the capped copy of one). The bytes on the wire
are the ones httpx would send, the errors httpx's own. Any other transport (a test's
``MockTransport``, a wrapper that knows only httpx's interface) goes through httpx as before,
and so does a request with a JSON body (httpx encodes it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

import httpx

from connectors.http.answer import Answer, RawHeaders
from connectors.http.body import BodyMeter, bounded_response, read_body, read_stream
from connectors.http.request import SOURCE_EXTENSION, ApiRequest
from connectors.http.target import target_of
from connectors.http.transport import WireBody
from connectors.http.wire import Head, WireRequest

__all__ = ["Exchanger", "Fetcher", "header_defaults", "merged_headers"]


Defaults = list[tuple[str, str, str]]
"""A client's default headers as (lower-case name, name, value)."""


def header_defaults(headers: httpx.Headers) -> Defaults:
    """A client's default headers, spelled as given, for :func:`merged_headers`."""
    encoding = headers.encoding
    return [
        (name.decode(encoding).lower(), name.decode(encoding), value.decode(encoding))
        for name, value in headers.raw
    ]


def merged_headers(defaults: Defaults, headers: Mapping[str, str]) -> list[tuple[str, str]]:
    """A client's default headers under a request's own, as ``httpx`` merges them: the
    defaults the request does not name, in order, then the request's."""
    named = {name.lower() for name in headers}
    merged = [(name, value) for lower, name, value in defaults if lower not in named]
    merged.extend(headers.items())
    return merged


_QUERIES: dict[tuple[tuple[str, Any], ...], str] = {}


def _query(params: Mapping[str, Any]) -> str:
    """``params`` encoded as httpx's ``params=`` encodes them, each set once: the connectors
    send the same few (``$top``, ``$select``, ``api-version``) on every first page."""
    key = tuple(params.items())
    try:
        known = _QUERIES.get(key)
    except TypeError:  # a value that cannot be a key (a list): encoded each time
        return str(httpx.QueryParams(params))
    if known is None:
        if len(_QUERIES) >= 256:
            _QUERIES.clear()
        known = _QUERIES[key] = str(httpx.QueryParams(params))
    return known


def _text(value: bytes | None, raw: RawHeaders, name: str) -> str | None:
    """A framing header's value as ``RawHeaders`` reads it (ASCII, as it nearly always is, at
    once)."""
    if value is None:
        return None
    try:
        return value.decode("ascii")
    except UnicodeDecodeError:
        text: str | None = raw.get(name)
        return text


class _RawBody(Protocol):
    def __aiter__(self) -> Any: ...

    async def aclose(self) -> None: ...


@runtime_checkable
class Exchanger(Protocol):
    """A transport that also sends a :class:`WireRequest` itself (the connectors' own, or a
    wrapper of it that passes the exchange on)."""

    async def exchange(self, wire: WireRequest) -> tuple[Head, _RawBody]: ...


class Fetcher:
    """Sends one try of an :class:`ApiRequest` with the headers of that try (the defaults of
    ``client`` under them, as httpx merges them) and reads its answer under a cap."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        native = getattr(client, "native", None)
        self.native: Exchanger | None = native if isinstance(native, Exchanger) else None
        self._defaults: Defaults | None = None
        self._timeout: dict[str, float | None] = {}

    def _merged(self, headers: dict[str, str]) -> list[tuple[str, str]]:
        if self._defaults is None:
            self._defaults = header_defaults(self.client.headers)
            self._timeout = self.client.timeout.as_dict()
        return merged_headers(self._defaults, headers)

    @staticmethod
    def url_of(request: ApiRequest) -> str:
        """The request's URL with its ``params`` encoded into it as httpx's ``params=`` would."""
        url = request.url
        if request.params is not None:
            query = _query(request.params)
            url = url.partition("?")[0] + ("?" + query if query else "")
        return url

    async def fetch(self, request: ApiRequest, headers: dict[str, str], cap: int) -> Answer:
        """The answer to one try, its body read (decoded) under ``cap``."""
        merged = self._merged(headers)
        url = self.url_of(request)
        if self.native is None or request.json is not None:
            return await self._through_httpx(request, url, merged, cap)
        if self.client.is_closed:
            raise RuntimeError("Cannot send a request, as the client has been closed.")
        wire = WireRequest(
            request.method.upper(), url, target_of(url), merged, self._timeout, request.source
        )
        head, body = await self.native.exchange(wire)
        raw = RawHeaders(head.headers)
        try:
            meter = BodyMeter(_text(head.encoding, raw, "Content-Encoding"), cap, request.what)
            meter.check_declared(_text(head.declared, raw, "Content-Length"))
            whole = body.whole() if isinstance(body, WireBody) else None
            content = meter.whole(whole) if whole is not None else await read_stream(meter, body)
        finally:
            await body.aclose()
        return Answer(
            head.status, raw, content, method=wire.method, request_url=url, reason=head.reason
        )

    async def _through_httpx(
        self, request: ApiRequest, url: str, headers: list[tuple[str, str]], cap: int
    ) -> Answer:
        extensions: dict[str, Any] = {"timeout": self._timeout}
        if request.source:
            extensions[SOURCE_EXTENSION] = request.source
        sent = httpx.Request(
            request.method, url, headers=headers, json=request.json, extensions=extensions
        )
        response = await self.client.send(sent, stream=True)
        try:
            body = await read_body(response, cap, request.what)
        finally:
            await response.aclose()
        bounded = bounded_response(response, body)
        return Answer(
            bounded.status_code,
            bounded.headers,
            body,
            method=sent.method,
            request_url=url,
            response=bounded,
        )
