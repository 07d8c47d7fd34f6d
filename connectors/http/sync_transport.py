"""The sign-in client's HTTP/1.1 transport: kept-alive TLS sockets for MSAL's blocking calls.

MSAL signs in through a synchronous ``httpx.Client`` from worker threads, one sign-in per
customer tenant and resource: a quarter of a sync's requests. httpx's default transport
(httpcore and h11) costs more CPU per call than the rest of the sign-in; this one sends the head
:mod:`connectors.http.wire` writes and cuts the answer out of a buffer the same way the
connectors' transport (:mod:`connectors.http.transport`) does. Errors are httpx's own.
"""

from __future__ import annotations

import contextlib
import select
import socket
import ssl
import threading
import time
from collections.abc import Iterator, Mapping

import httpx

from connectors.http.pool import KEEPALIVE_EXPIRY
from connectors.http.wire import (
    MAX_HEAD,
    ChunkedBody,
    Head,
    WireRequest,
    parse_head,
    request_head,
)

__all__ = ["SyncHttp11Transport", "SyncWireBody"]

_READ = 65536
Origin = tuple[str, str, int]


class _Socket:
    """One connection and what arrived on it that is not read yet."""

    def __init__(self, sock: socket.socket, origin: Origin) -> None:
        self.sock = sock
        self.origin = origin
        self.buffer = bytearray()
        self.idle_since = 0.0

    def fill(self, timeout: float | None, request: httpx.Request | None) -> bool:
        """Read what the server sends next; ``False`` when it hung up."""
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(_READ)
        except TimeoutError:
            raise httpx.ReadTimeout("timed out reading the answer", request=request) from None
        except OSError as exc:
            raise httpx.ReadError(f"reading the answer failed: {exc}", request=request) from None
        self.buffer += data
        return bool(data)

    def take(self, count: int) -> bytes:
        piece = bytes(self.buffer[:count])
        del self.buffer[:count]
        return piece

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()


class SyncWireBody(httpx.SyncByteStream):
    """An answer's body as it arrives, raw; the socket is kept for the next request when the
    body was read to its end, and closed otherwise."""

    def __init__(
        self,
        owner: SyncHttp11Transport,
        conn: _Socket,
        head: Head,
        request: httpx.Request | None,
        timeout: float | None,
    ) -> None:
        self.owner, self.conn, self.head, self.request = owner, conn, head, request
        self.timeout = timeout
        self.complete = head.length == 0
        self.closed = False

    def __iter__(self) -> Iterator[bytes]:
        conn, head = self.conn, self.head
        if head.chunked:
            decoder = ChunkedBody(self.request)
            while not decoder.done:
                data, used = decoder.feed(conn.buffer)
                del conn.buffer[:used]
                if data:
                    yield data
                if not decoder.done and not conn.fill(self.timeout, self.request):
                    raise _cut(self.request)
        elif head.length is not None:
            left = head.length
            while left > 0:
                if not conn.buffer and not conn.fill(self.timeout, self.request):
                    raise _cut(self.request)
                piece = conn.take(left)
                left -= len(piece)
                yield piece
        else:
            while conn.buffer or conn.fill(self.timeout, self.request):
                yield conn.take(len(conn.buffer))
        self.complete = True

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.owner.give_back(self.conn, self.complete and self.head.keep_alive)


def _cut(request: httpx.Request | None) -> httpx.RemoteProtocolError:
    return httpx.RemoteProtocolError(
        "peer closed connection without sending complete message body", request=request
    )


class SyncHttp11Transport(httpx.BaseTransport):
    """A synchronous ``httpx`` transport speaking HTTP/1.1 over kept-alive sockets; safe to
    share between threads (each request holds its socket alone). :meth:`exchange` sends a
    :class:`~connectors.http.wire.WireRequest` the same way, without httpx's objects."""

    def __init__(self, verify: ssl.SSLContext) -> None:
        self.context = verify
        self._idle: dict[Origin, list[_Socket]] = {}
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if url.scheme not in ("https", "http"):
            raise httpx.UnsupportedProtocol(f"unsupported scheme {url.scheme!r}", request=request)
        origin = (url.scheme, url.host, url.port or (443 if url.scheme == "https" else 80))
        timeouts = request.extensions.get("timeout") or {}
        data, chunked = request_head(request)
        body = b"".join(request.stream)  # type: ignore[arg-type]
        if chunked:
            body = (b"%x\r\n%s\r\n" % (len(body), body) if body else b"") + b"0\r\n\r\n"
        conn, head = self._send(origin, data + body, timeouts, request.method, request)
        return httpx.Response(
            head.status,
            headers=head.headers,
            stream=SyncWireBody(self, conn, head, request, timeouts.get("read")),
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": head.reason},
        )

    def exchange(self, wire: WireRequest) -> tuple[Head, SyncWireBody]:
        """Send ``wire``; the answer's head and its body as it arrives (to be closed)."""
        target = wire.target
        if target.scheme not in ("https", "http"):
            raise httpx.UnsupportedProtocol(f"unsupported scheme {target.scheme!r}")
        data = wire.head() + wire.body
        conn, head = self._send(target.address, data, wire.timeouts, wire.method, None)
        return head, SyncWireBody(self, conn, head, None, wire.timeouts.get("read"))

    def _send(
        self,
        origin: Origin,
        data: bytes,
        timeouts: Mapping[str, float | None],
        method: str,
        request: httpx.Request | None,
    ) -> tuple[_Socket, Head]:
        """Send ``data`` on a kept-alive socket to ``origin`` (or a new one); the socket and the
        answer's head."""
        conn = self._take(origin) or self._connect(origin, timeouts.get("connect"), request)
        try:
            conn.sock.settimeout(timeouts.get("write"))
            try:
                conn.sock.sendall(data)
            except OSError as exc:
                raise httpx.WriteError(f"sending the request failed: {exc}") from None
            return conn, self._head(conn, method, request, timeouts.get("read"))
        except BaseException:
            conn.close()
            raise

    def _take(self, origin: Origin) -> _Socket | None:
        now = time.monotonic()
        with self._lock:
            stack = self._idle.get(origin)
            while stack:
                conn = stack.pop()
                if now - conn.idle_since < KEEPALIVE_EXPIRY and not _hung_up(conn.sock):
                    return conn
                conn.close()
        return None

    def _connect(
        self, origin: Origin, timeout: float | None, request: httpx.Request | None
    ) -> _Socket:
        scheme, host, port = origin
        try:
            sock = socket.create_connection((host, port), timeout=timeout)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if scheme == "https":
                sock = self.context.wrap_socket(sock, server_hostname=host)
        except TimeoutError:
            raise httpx.ConnectTimeout(f"timed out connecting to {host}", request=request) from None
        except (OSError, ssl.SSLError) as exc:
            raise httpx.ConnectError(f"cannot connect to {host}: {exc}", request=request) from None
        return _Socket(sock, origin)

    def _head(
        self, conn: _Socket, method: str, request: httpx.Request | None, timeout: float | None
    ) -> Head:
        while True:
            end = conn.buffer.find(b"\r\n\r\n", 0, MAX_HEAD + 4)
            if end >= 0:
                head = parse_head(bytes(conn.buffer[:end]), method, request)
                del conn.buffer[: end + 4]
                if not 100 <= head.status < 200:
                    return head
                continue
            if len(conn.buffer) > MAX_HEAD:
                raise httpx.RemoteProtocolError("the answer's head is too large", request=request)
            if not conn.fill(timeout, request):
                raise httpx.RemoteProtocolError(
                    "Server disconnected without sending a response.", request=request
                )

    def give_back(self, conn: _Socket, reusable: bool) -> None:
        """A connection whose answer was read whole is kept for the next request."""
        if not reusable or conn.buffer:
            conn.close()
            return
        conn.idle_since = time.monotonic()
        with self._lock:
            self._idle.setdefault(conn.origin, []).append(conn)

    def close(self) -> None:
        with self._lock:
            for stack in self._idle.values():
                for conn in stack:
                    conn.close()
            self._idle.clear()


def _hung_up(sock: socket.socket) -> bool:
    """Whether an idle connection has something to read: the server closed it (or sent what
    no request asked for). Either way it is not used again."""
    if isinstance(sock, ssl.SSLSocket) and sock.pending():
        return True
    try:
        readable, _w, _x = select.select([sock], [], [], 0)
    except (OSError, ValueError):
        return True
    return bool(readable)
