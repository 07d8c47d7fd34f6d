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
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

import structlog

from standin.emulator.wire import Reply, Request

log = structlog.get_logger("standin.emulator")

MAX_BODY = 1 << 20


class _Handler(BaseHTTPRequestHandler):
    """Parses the request, asks the service, writes the reply (or misbehaves as told)."""

    protocol_version = "HTTP/1.1"
    server_version = "partnerlink-emulator"
    sys_version = ""
    timeout = 60
    server: Listener

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the per-request stderr line; the emulator counts requests instead."""

    def _dispatch(self) -> None:
        listener = self.server
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self.send_error(413)
            return
        body = self.rfile.read(length) if length else b""
        host = self.headers.get("Host") or f"{listener.host_name}:{listener.server_address[1]}"
        req = Request(
            method=self.command,
            path=unquote(split.path),
            raw_query=split.query,
            headers={k.lower(): v for k, v in self.headers.items()},
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
        self.send_response(reply.status)
        if reply.content_type and (reply.body or reply.status not in (204, 302)):
            self.send_header("Content-Type", reply.content_type)
        for key, value in reply.headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(reply.body)))
        if reply.action == "cut":
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if self.command == "HEAD":
            return
        if reply.action == "cut":
            self.wfile.write(reply.body[: len(reply.body) // 2])
            self.wfile.flush()
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.wfile.write(reply.body)

    do_GET = _dispatch
    do_POST = _dispatch
    do_PUT = _dispatch
    do_PATCH = _dispatch
    do_DELETE = _dispatch
    do_HEAD = _dispatch


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
        # Headers and body leave in two writes: without TCP_NODELAY, Nagle plus the client's
        # delayed ACK would add ~40 ms to every answer.
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
