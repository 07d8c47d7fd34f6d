"""What a client of the local emulator adds to the production HTTP stack, and nothing more.

The connectors name the source a request is made for in a request extension, never a header:
nothing but Microsoft's own headers goes to Microsoft. The emulator attributes scenario faults by
source, so a client of it wraps its transport in :class:`SourceHints`, which turns that extension
into the emulator's ``x-partnerlink-source`` header for requests to the emulator's own origin
only. Only the composition root (emulator mode), the benchmark and the tests wrap a transport.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx

from connectors.destinations import origin_of
from connectors.http.request import SOURCE_EXTENSION
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


def source_hints(origin: str) -> Callable[[httpx.AsyncBaseTransport], httpx.AsyncBaseTransport]:
    """The ``wrap`` of :func:`connectors.http.client.make_client` for a client of the emulator at
    ``origin``."""
    return lambda inner: SourceHints(inner, origin)
