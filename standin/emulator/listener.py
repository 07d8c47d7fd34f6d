"""The emulator's HTTPS listener: TLS in each connection's thread, a request parsed, an answer
written, or the misbehaviour a fault asked for (hang up unanswered, cut the body short).

Standard library only (``ThreadingHTTPServer`` + ``ssl``, a thread per connection, HTTP/1.1
keep-alive). The TLS handshake runs in the connection's thread, so a slow client never holds up
the accept loop. Open connections are tracked so a stop can close kept-alive ones.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
import time
from collections.abc import Callable
from email.utils import formatdate
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

import structlog

from standin.emulator.wire import Reply, Request

log = structlog.get_logger("standin.emulator")

MAX_BODY = 1 << 20
MAX_LINE = 65536
"""The longest header line ``http.client`` reads."""
MAX_HEADERS = 100
"""The most header lines (the blank one included) ``http.client`` reads."""


class _Handler(BaseHTTPRequestHandler):
    """Parses the request, asks the service, writes the reply (or misbehaves as told).

    An ordinary request line and its header lines are read here (the standard library's parser,
    through the ``email`` package, costs more than most answers); anything unusual goes to the
    standard library, which answers it as it always does. An answer leaves in one write."""

    protocol_version = "HTTP/1.1"
    server_version = "partnerlink-emulator"
    sys_version = ""
    timeout = 60
    server: Listener
    raw_requestline: bytes
    fields: dict[str, str]
    """The request's header fields, by lower-cased name."""

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the per-request stderr line; the emulator counts requests instead."""

    def parse_request(self) -> bool:
        line = str(self.raw_requestline, "iso-8859-1").rstrip("\r\n")
        words = line.split()
        if len(words) != 3 or words[2] not in ("HTTP/1.1", "HTTP/1.0"):
            if not super().parse_request():
                return False
            self.fields = {k.lower(): v for k, v in self.headers.items()}
            return True
        self.requestline = line
        self.command, self.path, self.request_version = words
        self.close_connection = self.request_version != "HTTP/1.1"
        if self.path.startswith("//"):
            self.path = "/" + self.path.lstrip("/")  # as the standard library does (gh-87389)
        fields = self._read_fields()
        if fields is None:
            return False
        self.fields = fields
        conntype = fields.get("connection", "").lower()
        if conntype == "close":
            self.close_connection = True
        elif conntype == "keep-alive":
            self.close_connection = False
        expect = fields.get("expect", "").lower()
        if expect == "100-continue" and self.request_version == "HTTP/1.1":
            return self.handle_expect_100()
        return True

    def _read_fields(self) -> dict[str, str] | None:
        """Header lines up to the blank one, within ``http.client``'s limits (431 beyond)."""
        fields: dict[str, str] = {}
        count = 0
        while True:
            raw = self.rfile.readline(MAX_LINE + 1)
            if len(raw) > MAX_LINE:
                self.send_error(
                    431, "Line too long", f"got more than {MAX_LINE} bytes when reading header line"
                )
                return None
            count += 1
            if count > MAX_HEADERS:
                self.send_error(431, "Too many headers", f"got more than {MAX_HEADERS} headers")
                return None
            if raw in (b"\r\n", b"\n", b""):
                return fields
            name, colon, value = str(raw, "iso-8859-1").partition(":")
            if colon:
                fields[name.lower()] = value.lstrip(" \t").rstrip("\r\n")

    def _dispatch(self) -> None:
        listener = self.server
        fields = self.fields
        split = urlsplit(self.path)
        length = int(fields.get("content-length") or 0)
        if length > MAX_BODY:
            self.send_error(413)
            return
        body = self.rfile.read(length) if length else b""
        host = fields.get("host") or f"{listener.host_name}:{listener.server_address[1]}"
        req = Request(
            method=self.command,
            path=unquote(split.path),
            raw_query=split.query,
            headers=fields,
            body=body,
            origin=f"https://{host}",
        )
        reply = listener.answer(req)
        self._write(reply)

    def _write(self, reply: Reply) -> None:
        if reply.action == "close":
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        head = self._head(reply)
        if self.command == "HEAD":
            self.wfile.write(head)
            return
        if reply.action == "cut":
            self.wfile.write(head + reply.body[: len(reply.body) // 2])
            self.wfile.flush()
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.wfile.write(head + reply.body)

    def _head(self, reply: Reply) -> bytes:
        """The status line and headers ``send_response`` and ``send_header`` would write."""
        phrase = self.responses[reply.status][0] if reply.status in self.responses else ""
        lines = [
            f"{self.protocol_version} {reply.status} {phrase}",
            f"Server: {self.version_string()}",
            f"Date: {_http_date()}",
        ]
        if reply.content_type and (reply.body or reply.status not in (204, 302)):
            lines.append(f"Content-Type: {reply.content_type}")
        for key, value in reply.headers.items():
            lines.append(f"{key}: {value}")
            if key.lower() == "connection" and value.lower() in ("close", "keep-alive"):
                self.close_connection = value.lower() == "close"
        lines.append(f"Content-Length: {len(reply.body)}")
        if reply.action == "cut":
            lines.append("Connection: close")
            self.close_connection = True
        lines.append("\r\n")
        return "\r\n".join(lines).encode("latin-1", "strict")

    do_GET = _dispatch
    do_POST = _dispatch
    do_PUT = _dispatch
    do_PATCH = _dispatch
    do_DELETE = _dispatch
    do_HEAD = _dispatch


def _http_date() -> str:
    """The ``Date`` header's value (formatted once a second)."""
    return _http_date_at(int(time.time()))


@lru_cache(maxsize=2)
def _http_date_at(second: int) -> str:
    return formatdate(second, usegmt=True)


class Listener(ThreadingHTTPServer):
    """Serves ``answer`` over TLS on ``(host, port)``; port 0 picks a free one."""

    daemon_threads = True
    request_queue_size = 256
    allow_reuse_address = True

    def __init__(
        self,
        address: tuple[str, int],
        answer: Callable[[Request], Reply],
        context: ssl.SSLContext,
    ) -> None:
        self.host_name = address[0]
        self.answer = answer
        self.context = context
        self._connections: set[ssl.SSLSocket] = set()
        self._conn_lock = threading.Lock()
        super().__init__(address, _Handler)

    def finish_request(self, request: Any, client_address: Any) -> None:
        """Wrap the accepted socket in TLS here, in the connection's own thread."""
        request.settimeout(10)
        # An error of the standard library's leaves in two writes: without TCP_NODELAY, Nagle
        # plus the client's delayed ACK would add ~40 ms to it.
        with contextlib.suppress(OSError):
            request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            tls = self.context.wrap_socket(request, server_side=True)
        except (OSError, ssl.SSLError):
            return
        with self._conn_lock:
            self._connections.add(tls)
        try:
            _Handler(tls, client_address, self)
        except (OSError, ssl.SSLError):
            pass
        finally:
            with self._conn_lock:
                self._connections.discard(tls)
            with contextlib.suppress(OSError):
                tls.close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        log.debug("emulator_connection_error", client=str(client_address))

    def close_connections(self) -> None:
        """Shut every open connection (kept-alive ones included) down."""
        with self._conn_lock:
            open_connections = list(self._connections)
        for conn in open_connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    def wait_closed(self, timeout: float) -> None:
        """Wait up to ``timeout`` seconds for the connections' threads to let go of them."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._conn_lock:
                if not self._connections:
                    break
            time.sleep(0.01)
