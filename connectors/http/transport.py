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

import asyncio
import ssl
import time
from collections import deque
from collections.abc import AsyncIterator

import httpx

from connectors.http.wire import MAX_HEAD, ChunkedBody, Head, parse_head, request_head

__all__ = ["KEEPALIVE_EXPIRY", "Http11Transport"]

KEEPALIVE_EXPIRY = 5.0
"""Seconds an idle connection is kept (httpx's default): servers drop idle ones sooner or later."""
_HIGH_WATER = 256 * 1024
"""Buffered bytes at which a connection stops reading until the body's reader catches up."""

Origin = tuple[str, str, int]


class _Connection(asyncio.Protocol):
    """One TCP (TLS) connection: what arrived and not yet read, and whether it is still open."""

    def __init__(self, pool: _Pool, origin: Origin) -> None:
        self.pool = pool
        self.origin = origin
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.open = True
        self.error: BaseException | None = None
        self.idle_since = 0.0
        self._reading = True
        self._waiter: asyncio.Future[None] | None = None
        self._drained: asyncio.Future[None] | None = None

    # -- asyncio.Protocol ---------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if self._reading and len(self.buffer) > _HIGH_WATER and self.transport is not None:
            self.transport.pause_reading()
            self._reading = False
        self._wake()

    def eof_received(self) -> bool:
        self.open = False
        self._wake()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.open = False
        self.error = exc
        self._wake()
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)
        self.pool.lost(self)

    def pause_writing(self) -> None:
        self._drained = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        if self._drained is not None and not self._drained.done():
            self._drained.set_result(None)
        self._drained = None

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    # -- used by the transport ----------------------------------------------------------------

    async def more(self, within: float | None) -> bool:
        """Wait until more bytes arrive; ``False`` when the server has hung up instead."""
        if not self.open:
            return False
        if not self._reading and self.transport is not None:
            self.transport.resume_reading()
            self._reading = True
        loop = asyncio.get_running_loop()
        self._waiter = waiter = loop.create_future()
        timer = loop.call_later(within, _expire, waiter) if within is not None else None
        try:
            await waiter
        finally:
            self._waiter = None
            if timer is not None:
                timer.cancel()
        return bool(self.buffer) or self.open

    def take(self, count: int) -> bytes:
        """Up to ``count`` buffered bytes, removed from the buffer."""
        piece = bytes(self.buffer[:count])
        del self.buffer[:count]
        return piece

    async def send(self, data: bytes, within: float | None) -> None:
        if self.transport is None or not self.open or self.transport.is_closing():
            raise httpx.WriteError("the connection is closed")
        self.transport.write(data)
        if self._drained is not None:
            try:
                async with asyncio.timeout(within):
                    await self._drained
            except TimeoutError:
                raise httpx.WriteTimeout("timed out writing the request") from None

    def close(self) -> None:
        self.open = False
        if self.transport is not None:
            self.transport.close()


def _expire(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_exception(TimeoutError())


class _Pool:
    """Connections per origin: idle ones reused newest first, at most ``limit`` open at once."""

    def __init__(self, context: ssl.SSLContext, limit: int) -> None:
        self.context = context
        self.limit = max(1, limit)
        self.idle: dict[Origin, list[_Connection]] = {}
        self.count = 0
        self.waiters: deque[asyncio.Future[None]] = deque()

    async def acquire(self, origin: Origin, timeouts: dict[str, float | None]) -> _Connection:
        """A connection to ``origin``: an idle one still open, a new one, or the next freed."""
        while True:
            stack = self.idle.get(origin)
            now = time.monotonic()
            while stack:
                conn = stack.pop()
                if conn.open and not conn.buffer and now - conn.idle_since < KEEPALIVE_EXPIRY:
                    return conn
                self.discard(conn)
            if self.count < self.limit:
                return await self._connect(origin, timeouts.get("connect"))
            if not self._close_an_idle_one():
                await self._wait(timeouts.get("pool"))

    async def _wait(self, within: float | None) -> None:
        waiter = asyncio.get_running_loop().create_future()
        self.waiters.append(waiter)
        try:
            async with asyncio.timeout(within):
                await waiter
        except TimeoutError:
            raise httpx.PoolTimeout("no connection became free in time") from None
        finally:
            if not waiter.done():
                waiter.cancel()

    def _close_an_idle_one(self) -> bool:
        oldest: _Connection | None = None
        for stack in self.idle.values():
            if stack and (oldest is None or stack[0].idle_since < oldest.idle_since):
                oldest = stack[0]
        if oldest is None:
            return False
        self.idle[oldest.origin].remove(oldest)
        self.discard(oldest)
        return True

    async def _connect(self, origin: Origin, within: float | None) -> _Connection:
        scheme, host, port = origin
        tls = self.context if scheme == "https" else None
        loop = asyncio.get_running_loop()
        self.count += 1
        try:
            async with asyncio.timeout(within):
                _transport, conn = await loop.create_connection(
                    lambda: _Connection(self, origin),
                    host,
                    port,
                    ssl=tls,
                    server_hostname=host if tls is not None else None,
                )
        except BaseException as exc:
            self.count -= 1
            self._wake_one()
            if isinstance(exc, TimeoutError):
                raise httpx.ConnectTimeout(f"timed out connecting to {host}") from None
            if isinstance(exc, OSError | ssl.SSLError | ssl.CertificateError):
                raise httpx.ConnectError(f"cannot connect to {host}: {exc}") from None
            raise
        return conn

    def release(self, conn: _Connection) -> None:
        """A connection whose answer was read whole: kept for the next request to its origin."""
        if not conn.open or conn.buffer:
            self.discard(conn)
            return
        conn.idle_since = time.monotonic()
        self.idle.setdefault(conn.origin, []).append(conn)
        self._wake_one()

    def discard(self, conn: _Connection) -> None:
        """A connection that goes no further: closed, and its place freed once."""
        if conn.pool is self:
            conn.pool = _GONE
            self.count -= 1
            self._wake_one()
        conn.close()

    def lost(self, conn: _Connection) -> None:
        """The server closed ``conn``: an idle one leaves the pool now."""
        stack = self.idle.get(conn.origin)
        if stack and conn in stack:
            stack.remove(conn)
            self.discard(conn)

    def _wake_one(self) -> None:
        while self.waiters:
            waiter = self.waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    def close(self) -> None:
        for stack in self.idle.values():
            for conn in list(stack):
                self.discard(conn)
            stack.clear()


class _Gone(_Pool):
    """The pool of a connection already discarded: it is closed, whatever it reports."""

    def __init__(self) -> None:
        super().__init__(ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT), 1)

    def release(self, conn: _Connection) -> None:
        conn.close()

    def discard(self, conn: _Connection) -> None:
        conn.close()

    def lost(self, conn: _Connection) -> None:
        pass


_GONE = _Gone()


class _Body(httpx.AsyncByteStream):
    """An answer's body as it arrives, raw (the requester inflates and caps it); the connection
    goes back to the pool when the body was read to its end, and is closed otherwise."""

    def __init__(self, conn: _Connection, head: Head, request: httpx.Request, read: float | None):
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
    :data:`KEEPALIVE_EXPIRY` seconds)."""

    def __init__(self, verify: ssl.SSLContext, connections: int = 64) -> None:
        self._pool = _Pool(verify, connections)

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
            head = await self._head(conn, request, timeouts.get("read"))
        except BaseException:
            conn.pool.discard(conn)
            raise
        return httpx.Response(
            head.status,
            headers=head.headers,
            stream=_Body(conn, head, request, timeouts.get("read")),
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": head.reason},
        )

    async def _send(self, conn: _Connection, request: httpx.Request, within: float | None) -> None:
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

    async def _head(self, conn: _Connection, request: httpx.Request, within: float | None) -> Head:
        """The answer's head, past any interim (1xx) answers."""
        start = 0
        while True:
            end = conn.buffer.find(b"\r\n\r\n", start, MAX_HEAD + 4)
            if end >= 0:
                head = parse_head(bytes(conn.buffer[:end]), request)
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
