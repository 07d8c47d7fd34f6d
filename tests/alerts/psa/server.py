"""A real HTTPS server on 127.0.0.1 for the PSA stand-ins: routes by method and path pattern,
JSON in and out, every request recorded, and faults injected on demand (an error instead of
the answer, or after the work is done: the answer lost on the way back)."""

from __future__ import annotations

import json
import re
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx

from tests.alerts.support import _certificates


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.body.decode("utf-8")))


@dataclass
class Fault:
    method: str
    pattern: str
    status: int = 502
    after: bool = False
    """Do the work, then answer ``status``: the answer is lost, the ticket or note exists."""
    times: int = 1
    echo: bool = False
    """Answer with the request's headers and body, as some services do in their errors."""


Answer = tuple[int, Any]
Handler = Callable[[Request, re.Match[str]], Answer]


@dataclass
class Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler


@dataclass
class JsonServer:
    """The server; stand-ins add their routes and read ``requests``."""

    routes: list[Route] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock)
    tls: bool = True
    """Plain HTTP only for a process that cannot be told to trust the stand-ins' CA (the
    agent's own composition root, which trusts the system's)."""

    def route(self, method: str, pattern: str, handler: Handler) -> None:
        self.routes.append(Route(method, re.compile(f"^{pattern}$"), handler))

    def fail(
        self,
        method: str,
        pattern: str,
        status: int = 502,
        *,
        after: bool = False,
        times: int = 1,
        echo: bool = False,
    ) -> None:
        self.faults.append(Fault(method, pattern, status, after, times, echo))

    def answer(self, request: Request) -> Answer:
        with self.lock:
            self.requests.append(request)
            fault = self._fault(request)
            if fault is not None and fault.echo:  # the credentials first, as a caller's own
                plain = ("host", "accept", "accept-encoding", "connection", "user-agent")
                sent = {k: v for k, v in request.headers.items() if k not in plain}
                return fault.status, {"echo": [sent, request.body.decode()]}
            if fault is not None and not fault.after:
                return fault.status, {"error": "injected"}
            for route in self.routes:
                match = route.pattern.match(request.path)
                if route.method == request.method and match:
                    status, body = route.handler(request, match)
                    break
            else:
                status, body = 404, {"message": f"no route {request.method} {request.path}"}
            if fault is not None:
                return fault.status, {"error": "injected after the work was done"}
            return status, body

    def _fault(self, request: Request) -> Fault | None:
        for fault in self.faults:
            if fault.method == request.method and re.match(f"^{fault.pattern}$", request.path):
                fault.times -= 1
                if fault.times <= 0:
                    self.faults.remove(fault)
                return fault
        return None

    # ------------------------------------------------------------------ serving over TLS

    def __enter__(self) -> JsonServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                request = Request(
                    self.command,
                    parts.path,
                    dict(parse_qsl(parts.query)),
                    {k.lower(): v for k, v in self.headers.items()},
                    self.rfile.read(length) if length else b"",
                )
                status, body = server.answer(request)
                out = b"" if body is None else json.dumps(body).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _any

            def log_message(self, format: str, *args: Any) -> None:
                return None

        _ca, cert = _certificates()
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        cert.configure_cert(context)
        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._http.daemon_threads = True
        if self.tls:
            self._http.socket = context.wrap_socket(self._http.socket, server_side=True)
        self.port = self._http.server_address[1]
        self._thread = threading.Thread(target=self._http.serve_forever, args=(0.01,))
        self._thread.daemon = True
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._http.shutdown()
        self._http.server_close()
        self._thread.join(timeout=5)

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"


def transport() -> httpx.AsyncHTTPTransport:
    """A client transport that trusts the stand-ins' certificate authority (and no other)."""
    ca, _cert = _certificates()
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ca.configure_trust(context)
    return httpx.AsyncHTTPTransport(verify=context, retries=0)
