"""The connectors' HTTP/1.1 transport: kept-alive TLS connections on asyncio's own protocols.

httpx's default transport (httpcore, h11 and anyio's TLS stream) spent more of a sync's CPU than
everything else the agent does per request: each request ran a dozen layers of context managers,
cancel scopes and event objects, and every time a connection was handed out every idle one was
polled. Here a connection is an :class:`asyncio.Protocol`: bytes arrive in its buffer, it knows
at once when the server hung up (an idle connection is never polled), and an answer's head and
body are cut out of the buffer by :mod:`connectors.http.wire`. The requester still reads each
body under its cap (:mod:`connectors.http.body`), which is why the stream here hands over raw
bytes as they arrive and reads no further than asked.

Errors are httpx's own, as its transport raises them (``ConnectError``/``ConnectTimeout`` before
anything was sent, ``ReadTimeout``, ``ReadError``, ``RemoteProtocolError`` for a hang-up or a
malformed answer, ``PoolTimeout``), so the requester's retry rules read them unchanged.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator

import httpx

from connectors.http.pool import KEEPALIVE_EXPIRY, Connection, Pool
from connectors.http.wire import (
    MAX_HEAD,
    ChunkedBody,
    Head,
    WireRequest,
    parse_head,
    request_head,
)

__all__ = ["KEEPALIVE_EXPIRY", "Http11Transport", "WireBody"]


class WireBody(httpx.AsyncByteStream):
    """An answer's body as it arrives, raw (the requester inflates and caps it); the connection
    goes back to the pool when the body was read to its end, and is closed otherwise."""

    def __init__(
        self, conn: Connection, head: Head, request: httpx.Request | None, read: float | None
    ):
        self.conn = conn
        self.head = head
        self.request = request
        self.timeout = read
        self.complete = head.length == 0
        self.closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        if self.head.chunked:
            source = self._chunked()
        elif self.head.length is not None:
            source = self._counted(self.head.length)
        else:
            source = self._until_close()
        async for piece in source:
            yield piece

    def whole(self) -> bytes | None:
        """The whole body at once when it has all arrived already (a body of stated length the
        connection's buffer holds, as a small answer's usually does); ``None`` otherwise."""
        length = self.head.length
        if length is None or self.head.chunked or len(self.conn.buffer) < length:
            return None
        self.complete = True
        return self.conn.take(length)

    async def _fill(self) -> bool:
        try:
            return await self.conn.more(self.timeout)
        except TimeoutError:
            raise httpx.ReadTimeout("timed out reading the answer", request=self.request) from None

    def _cut(self) -> httpx.TransportError:
        if self.conn.error is not None and not isinstance(self.conn.error, TimeoutError):
            return httpx.ReadError(f"reading the answer failed: {self.conn.error}")
        return httpx.RemoteProtocolError(
            "peer closed connection without sending complete message body", request=self.request
        )

    async def _counted(self, left: int) -> AsyncIterator[bytes]:
        while left > 0:
            if not self.conn.buffer and not await self._fill():
                raise self._cut()
            piece = self.conn.take(left)
            left -= len(piece)
            if piece:
                yield piece
        self.complete = True

    async def _chunked(self) -> AsyncIterator[bytes]:
        decoder = ChunkedBody(self.request)
        while not decoder.done:
            data, used = decoder.feed(self.conn.buffer)
            del self.conn.buffer[:used]
            if data:
                yield data
            if not decoder.done and not await self._fill():
                raise self._cut()
        self.complete = True

    async def _until_close(self) -> AsyncIterator[bytes]:
        while self.conn.buffer or await self._fill():
            piece = self.conn.take(len(self.conn.buffer))
            if piece:
                yield piece
        if self.conn.error is not None:
            raise self._cut()
        self.complete = True

    async def aclose(self) -> None:
        if self.closed:
            return
        self.closed = True
        pool = self.conn.pool
        if self.complete and self.head.keep_alive:
            pool.release(self.conn)
        else:
            pool.discard(self.conn)


class Http11Transport(httpx.AsyncBaseTransport):
    """An ``httpx`` transport speaking HTTP/1.1 over kept-alive connections, at most
    ``connections`` open at once (every one kept while it is in use; idle ones for
    :data:`KEEPALIVE_EXPIRY` seconds).

    :meth:`exchange` sends a :class:`~connectors.http.wire.WireRequest` the same way without
    an ``httpx.Request`` or ``httpx.Response``: the requester's own path (the same bytes on
    the wire, the same errors)."""

    def __init__(self, verify: ssl.SSLContext, connections: int = 64) -> None:
        self._pool = Pool(verify, connections)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        scheme = url.scheme
        if scheme not in ("https", "http"):
            raise httpx.UnsupportedProtocol(f"unsupported scheme {scheme!r}", request=request)
        origin = (scheme, url.host, url.port or (443 if scheme == "https" else 80))
        timeouts: dict[str, float | None] = request.extensions.get("timeout") or {}
        conn = await self._pool.acquire(origin, timeouts)
        try:
            await self._send(conn, request, timeouts.get("write"))
            head = await self._head(conn, request.method, request, timeouts.get("read"))
        except BaseException:
            conn.pool.discard(conn)
            raise
        return httpx.Response(
            head.status,
            headers=head.headers,
            stream=WireBody(conn, head, request, timeouts.get("read")),
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": head.reason},
        )

    async def exchange(self, wire: WireRequest) -> tuple[Head, WireBody]:
        """Send ``wire``; the answer's head and its body as it arrives (to be closed)."""
        target = wire.target
        if target.scheme not in ("https", "http"):
            raise httpx.UnsupportedProtocol(f"unsupported scheme {target.scheme!r}")
        timeouts = wire.timeouts
        data = wire.head()
        conn = await self._pool.acquire(target.address, timeouts)
        try:
            await conn.send(data, timeouts.get("write"))
            head = await self._head(conn, wire.method, None, timeouts.get("read"))
        except BaseException:
            conn.pool.discard(conn)
            raise
        return head, WireBody(conn, head, None, timeouts.get("read"))

    async def _send(self, conn: Connection, request: httpx.Request, within: float | None) -> None:
        data, chunked = request_head(request)
        if isinstance(request.stream, httpx.ByteStream) and not chunked:
            await conn.send(data + request.content, within)
            return
        await conn.send(data, within)
        async for part in request.stream:  # type: ignore[union-attr]
            if part:
                await conn.send(b"%x\r\n%s\r\n" % (len(part), part) if chunked else part, within)
        if chunked:
            await conn.send(b"0\r\n\r\n", within)

    async def _head(
        self, conn: Connection, method: str, request: httpx.Request | None, within: float | None
    ) -> Head:
        """The answer's head, past any interim (1xx) answers."""
        start = 0
        while True:
            end = conn.buffer.find(b"\r\n\r\n", start, MAX_HEAD + 4)
            if end >= 0:
                head = parse_head(bytes(conn.buffer[:end]), method, request)
                del conn.buffer[: end + 4]
                start = 0
                if not 100 <= head.status < 200:
                    return head
                continue
            if len(conn.buffer) > MAX_HEAD:
                raise httpx.RemoteProtocolError("the answer's head is too large", request=request)
            start = max(0, len(conn.buffer) - 3)
            try:
                more = await conn.more(within)
            except TimeoutError:
                raise httpx.ReadTimeout(
                    "timed out waiting for the answer", request=request
                ) from None
            if not more:
                if conn.error is not None:
                    raise httpx.ReadError(
                        f"reading the answer failed: {conn.error}", request=request
                    )
                raise httpx.RemoteProtocolError(
                    "Server disconnected without sending a response.", request=request
                )

    async def aclose(self) -> None:
        self._pool.close()
