"""The connections of :mod:`connectors.http.transport`: each an :class:`asyncio.Protocol` that
buffers what arrives and knows at once when the server hung up, kept alive per origin by a
:class:`Pool` that opens at most its limit at once.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections import deque
from collections.abc import Mapping

import httpx

__all__ = ["KEEPALIVE_EXPIRY", "Connection", "Pool"]

KEEPALIVE_EXPIRY = 5.0
"""Seconds an idle connection is kept (httpx's default): servers drop idle ones sooner or later."""
_HIGH_WATER = 256 * 1024
"""Buffered bytes at which a connection stops reading until the body's reader catches up."""

Origin = tuple[str, str, int]


class Connection(asyncio.Protocol):
    """One TCP (TLS) connection: what arrived and not yet read, and whether it is still open."""

    def __init__(self, pool: Pool, origin: Origin) -> None:
        self.pool = pool
        self.origin = origin
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.open = True
        self.error: BaseException | None = None
        self.idle_since = 0.0
        self._reading = True
        self._waiter: asyncio.Future[None] | None = None
        self._deadline: float | None = None
        self._timer: asyncio.TimerHandle | None = None
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
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
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
        """Wait until more bytes arrive; ``False`` when the server has hung up instead, a
        ``TimeoutError`` when ``within`` seconds pass first."""
        if not self.open:
            return False
        if not self._reading and self.transport is not None:
            self.transport.resume_reading()
            self._reading = True
        loop = asyncio.get_running_loop()
        self._waiter = waiter = loop.create_future()
        if within is not None:
            self._arm(loop, loop.time() + within)
        try:
            await waiter
        finally:
            self._waiter = None
            self._deadline = None
        return bool(self.buffer) or self.open

    def _arm(self, loop: asyncio.AbstractEventLoop, deadline: float) -> None:
        """Time out the current wait at ``deadline``. One timer serves the connection's every
        wait: it is set again only when it would fire later than this one's deadline, and when
        it fires for a wait that has since ended, or whose deadline moved on, it is moved on
        too (a timer per wait cost a heap entry and a cancellation per read)."""
        self._deadline = deadline
        timer = self._timer
        if timer is None or timer.when() > deadline:
            if timer is not None:
                timer.cancel()
            self._timer = loop.call_at(deadline, self._expire)

    def _expire(self) -> None:
        self._timer = None
        deadline, waiter = self._deadline, self._waiter
        if deadline is None or waiter is None or waiter.done():
            return  # no wait under way: the next one sets the timer again
        loop = asyncio.get_running_loop()
        if loop.time() >= deadline:
            waiter.set_exception(TimeoutError())
        else:
            self._timer = loop.call_at(deadline, self._expire)

    def take(self, count: int) -> bytes:
        """Up to ``count`` buffered bytes, removed from the buffer."""
        if count >= len(self.buffer):
            piece = bytes(self.buffer)
            self.buffer.clear()
            return piece
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
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self.transport is not None:
            self.transport.close()


class Pool:
    """Connections per origin: idle ones reused newest first, at most ``limit`` open at once."""

    def __init__(self, context: ssl.SSLContext, limit: int) -> None:
        self.context = context
        self.limit = max(1, limit)
        self.idle: dict[Origin, list[Connection]] = {}
        self.count = 0
        self.waiters: deque[asyncio.Future[None]] = deque()

    async def acquire(self, origin: Origin, timeouts: Mapping[str, float | None]) -> Connection:
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
        oldest: Connection | None = None
        for stack in self.idle.values():
            if stack and (oldest is None or stack[0].idle_since < oldest.idle_since):
                oldest = stack[0]
        if oldest is None:
            return False
        self.idle[oldest.origin].remove(oldest)
        self.discard(oldest)
        return True

    async def _connect(self, origin: Origin, within: float | None) -> Connection:
        scheme, host, port = origin
        tls = self.context if scheme == "https" else None
        loop = asyncio.get_running_loop()
        self.count += 1
        try:
            async with asyncio.timeout(within):
                _transport, conn = await loop.create_connection(
                    lambda: Connection(self, origin),
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

    def release(self, conn: Connection) -> None:
        """A connection whose answer was read whole: kept for the next request to its origin."""
        if not conn.open or conn.buffer:
            self.discard(conn)
            return
        conn.idle_since = time.monotonic()
        self.idle.setdefault(conn.origin, []).append(conn)
        self._wake_one()

    def discard(self, conn: Connection) -> None:
        """A connection that goes no further: closed, and its place freed once."""
        if conn.pool is self:
            conn.pool = _GONE
            self.count -= 1
            self._wake_one()
        conn.close()

    def lost(self, conn: Connection) -> None:
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


class _Gone(Pool):
    """The pool of a connection already discarded: it is closed, whatever it reports."""

    def __init__(self) -> None:
        super().__init__(ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT), 1)

    def release(self, conn: Connection) -> None:
        conn.close()

    def discard(self, conn: Connection) -> None:
        conn.close()

    def lost(self, conn: Connection) -> None:
        pass


_GONE = _Gone()
