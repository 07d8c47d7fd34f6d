"""What a client of the local emulator adds to the production HTTP stack, and nothing more.

The connectors name the source a request is made for in a request extension, never a header:
nothing but Microsoft's own headers goes to Microsoft. The emulator attributes scenario faults by
source, so a client of it wraps its transport in :class:`SourceHints`, which turns that extension
into the emulator's ``x-partnerlink-source`` header for requests to the emulator's own origin
only. Over the connectors' own transport, which also sends a request below httpx
(:mod:`connectors.http.fetch`), the wrapper is a :class:`NativeSourceHints`: the hint rides on
that exchange too, so a client of the emulator sends its requests as it does to Microsoft. Only
the composition root (emulator mode), the benchmark and the tests wrap a transport.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from connectors.destinations import origin_of
from connectors.http.fetch import Exchanger
from connectors.http.request import SOURCE_EXTENSION
from connectors.http.wire import Head, WireRequest
from standin.emulator.service import SOURCE_HEADER


class SourceHints(httpx.AsyncBaseTransport):
    """Adds the source header from the request's extensions, for ``origin`` only."""

    def __init__(self, inner: httpx.AsyncBaseTransport, origin: str) -> None:
        self.inner = inner
        self.origin = origin_of(origin)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        source = request.extensions.get(SOURCE_EXTENSION)
        if isinstance(source, str) and origin_of(request.url) == self.origin:
            request.headers[SOURCE_HEADER] = source
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


class NativeSourceHints(SourceHints):
    """:class:`SourceHints` over a transport that is an :class:`Exchanger` too: the header is
    added to a :class:`WireRequest` made for ``origin`` as well."""

    def __init__(self, inner: httpx.AsyncBaseTransport, origin: str) -> None:
        super().__init__(inner, origin)
        if not isinstance(inner, Exchanger):
            raise TypeError(f"{type(inner).__name__} does not send a request below httpx")
        self.exchanger: Exchanger = inner

    async def exchange(self, wire: WireRequest) -> tuple[Head, Any]:
        if wire.source:
            scheme, host, port = wire.target.address
            if f"{scheme}://{host.lower()}:{port}" == self.origin:
                wire.headers.append((SOURCE_HEADER, wire.source))
        return await self.exchanger.exchange(wire)


def hinted(inner: httpx.AsyncBaseTransport, origin: str) -> SourceHints:
    """``inner`` wrapped for a client of the emulator at ``origin``: a
    :class:`NativeSourceHints` where it is an :class:`Exchanger`, else a :class:`SourceHints`."""
    if isinstance(inner, Exchanger):
        return NativeSourceHints(inner, origin)
    return SourceHints(inner, origin)


def source_hints(origin: str) -> Callable[[httpx.AsyncBaseTransport], httpx.AsyncBaseTransport]:
    """The ``wrap`` of :func:`connectors.http.client.make_client` for a client of the emulator at
    ``origin``."""
    return lambda inner: hinted(inner, origin)
