"""Runs the endpoint on waitress: a fixed pool of worker threads, an event loop that holds idle
and half-sent connections without a thread each, a cap on open connections, and a timeout after
which a silent connection, or a request still arriving, is dropped. ``start()`` serves,
``stop()`` closes everything."""

from __future__ import annotations

import errno
import resource
import socket
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import structlog
from waitress import wasyncore
from waitress.server import create_server

from agent.config import ConfigError
from agent.metrics import Metrics
from agent.store import Store
from agent.web.app import StatusApp
from agent.web.config import HttpSection
from agent.web.page import ReportPage
from agent.web.people import Authority, people

log = structlog.get_logger("partnerlink.web")

_HEADER_LIMIT = 32 * 1024  # a health probe or a browser needs far less
_BODY_LIMIT = 64 * 1024  # only the findings' and sign-in's forms are posted, and they are small
_FD_SPARE = 256  # descriptors the agent needs besides the endpoint's (database, Microsoft APIs)


def status_server(
    store: Store,
    metrics: Metrics,
    http: HttpSection,
    *,
    page: ReportPage,
    clock: Callable[[], datetime],
    authority: Authority | None = None,
) -> StatusServer:
    """The endpoint as ``[http]`` describes it, bound (a busy port raises ConfigError);
    ``authority`` is where people sign in when ``[http.sign_in]`` is set."""
    if http.sign_in is not None and authority is None:
        raise ConfigError("[http.sign_in] is set but no sign-in authority was given")
    parts = people(store, http, authority, clock)
    app = StatusApp(
        store=store,
        metrics=metrics,
        page=page,
        people=parts,
        ready_after=http.ready_after,
        clock=clock,
    )
    try:
        return StatusServer(
            app,
            bind=http.bind,
            port=http.port,
            threads=http.threads,
            connection_limit=http.connection_limit,
            idle_timeout=http.idle_timeout,
        )
    except Exception:
        parts.close()
        raise


class StatusServer:
    def __init__(
        self,
        app: StatusApp,
        *,
        bind: str,
        port: int,
        threads: int = 4,
        connection_limit: int = 500,
        idle_timeout: timedelta = timedelta(seconds=30),
    ) -> None:
        self.app = app
        self.bind = bind
        sockets = listen(bind, port)
        self.port = int(sockets[0].getsockname()[1])
        _fd_headroom(connection_limit)
        idle = max(1, int(idle_timeout.total_seconds()))
        self._idle = idle
        self._map: dict[int, wasyncore.dispatcher] = {}
        try:
            self._server = self._waitress(app, sockets, threads, connection_limit, idle)
        except Exception:
            for sock in sockets:
                sock.close()
            raise
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True, name="partnerlink-http")

    def _waitress(
        self,
        app: StatusApp,
        sockets: list[socket.socket],
        threads: int,
        connection_limit: int,
        idle: int,
    ) -> Any:
        return create_server(
            app,
            map=self._map,
            sockets=sockets,
            threads=threads,
            connection_limit=connection_limit,
            channel_timeout=idle,
            cleanup_interval=max(1, min(30, idle // 2)),
            ident="partnerlink",
            max_request_header_size=_HEADER_LIMIT,
            max_request_body_size=_BODY_LIMIT,
            expose_tracebacks=False,
        )

    def start(self) -> None:
        self._thread.start()
        sign_in = self.app.people.sign_in is not None
        log.info(
            "http_listening",
            address=self.bind,
            port=self.port,
            report=self.app.access.mode,
            sign_in=sign_in,
        )
        if self.app.access.mode == "anonymous" and not _loopback(self.bind):
            log.warning(
                "http_report_anonymous",
                address=self.bind,
                hint="anyone who reaches this port reads the report: set [http] token_file "
                "and report_anonymous = false, or bind 127.0.0.1",
            )

    def stop(self) -> None:
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        else:
            wasyncore.close_all(self._map, ignore_all=True)
        self._server.task_dispatcher.shutdown(timeout=5)
        self.app.people.close()

    def _loop(self) -> None:
        # waitress's own run() loops until its map is empty; this one also stops when asked,
        # and closes every socket (listening and accepted) from the thread that owns them.
        began: dict[object, float] = {}
        try:
            while self._map and not self._stopping.is_set():
                # poll(), not select(): select() stops at 1024 descriptors.
                wasyncore.loop(timeout=0.5, map=self._map, use_poll=True, count=1)
                began = self._drop_slow_requests(began)
        finally:
            wasyncore.close_all(self._map, ignore_all=True)

    def _drop_slow_requests(self, began: dict[object, float]) -> dict[object, float]:
        """Close a connection whose request is still arriving ``idle_timeout`` after it began.

        waitress drops silent connections only; one that trickles a byte now and then would
        otherwise hold its place forever. ``began`` maps each partial request to when it was
        first seen; the map returned holds the partial requests of this pass.
        """
        now = time.monotonic()
        seen: dict[object, float] = {}
        for channel in list(self._map.values()):
            request = getattr(channel, "request", None)  # waitress: the request being read
            if request is None or getattr(channel, "requests", None):
                continue
            seen[request] = start = began.get(request, now)
            if now - start > self._idle:
                channel.will_close = True  # waitress closes it on its next pass
        return seen


def listen(bind: str, port: int) -> list[socket.socket]:
    """Bound sockets for every address ``bind`` names; a problem is one ConfigError line."""
    try:
        infos = socket.getaddrinfo(
            bind, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE | socket.AI_NUMERICSERV
        )
    except socket.gaierror as exc:
        raise ConfigError(f"[http] bind {bind!r} is not an address ({exc.strerror})") from None
    sockets: list[socket.socket] = []
    seen: set[object] = set()
    try:
        for family, kind, proto, _name, address in infos:
            if address in seen:
                continue
            seen.add(address)
            sock = socket.socket(family, kind, proto)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # restarts in TIME_WAIT
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            if port == 0 and len(sockets) > 1:  # every address on the port the first one got
                sock.bind((address[0], sockets[0].getsockname()[1], *address[2:]))
            else:
                sock.bind(address)
    except OSError as exc:
        for sock in sockets:
            sock.close()
        raise ConfigError(_bind_problem(bind, port, exc)) from None
    return sockets


def _bind_problem(bind: str, port: int, exc: OSError) -> str:
    if exc.errno == errno.EADDRINUSE:
        return f"[http] port {port} on {bind} is in use"
    if exc.errno == errno.EACCES:
        return f"[http] port {port} on {bind}: permission denied (below 1024 needs privileges)"
    if exc.errno == errno.EADDRNOTAVAIL:
        return f"[http] bind {bind} is not an address of this host"
    return f"[http] cannot listen on {bind} port {port}: {exc.strerror or exc}"


def _loopback(bind: str) -> bool:
    try:
        infos = socket.getaddrinfo(bind, None, flags=socket.AI_NUMERICHOST)
    except socket.gaierror:
        return bind == "localhost"
    return all(str(info[4][0]).startswith("127.") or info[4][0] == "::1" for info in infos)


def _fd_headroom(connection_limit: int) -> None:
    """Raise the soft descriptor limit so a full endpoint cannot starve the agent's own sockets."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = connection_limit + _FD_SPARE
    if soft == resource.RLIM_INFINITY or soft >= wanted:
        return
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if target > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    if target < wanted:
        log.warning(
            "http_connection_limit_high",
            connection_limit=connection_limit,
            open_files_limit=target,
            hint="lower [http] connection_limit or raise the open-files limit (LimitNOFILE)",
        )
