"""The endpoint's server under idle and half-sent connections, and when its port is taken: idle
sockets cost no thread, a silent half-sent request is dropped, a busy port is one clear line."""

from __future__ import annotations

import select
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from agent.config import ConfigError
from agent.metrics import Metrics
from agent.store import Store
from agent.web.config import HttpSection
from agent.web.page import ReportPage
from agent.web.server import StatusServer, status_server
from tests.daemon.webworld import now, write_agent

IDLE = 300  # connections held open at once, well under the default connection_limit (500)


@contextmanager
def running(store: Store, **http: object) -> Iterator[StatusServer]:
    settings = HttpSection.model_validate({"port": 0, **http})
    server = status_server(store, Metrics(store), settings, page=ReportPage(), clock=now)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _connect(port: int) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=5)


def test_hundreds_of_idle_connections_hold_no_thread_and_health_answers(
    sqlite_store: Store,
) -> None:
    with running(sqlite_store) as server, ExitStack() as held:
        client = held.enter_context(httpx.Client(base_url=f"http://127.0.0.1:{server.port}"))
        assert client.get("/healthz").status_code == 200
        threads_before = threading.active_count()
        for i in range(IDLE):
            conn = held.enter_context(_connect(server.port))
            if i % 2:  # half of them start a request and go silent
                conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        started = time.monotonic()
        health = client.get("/healthz", timeout=5)
        assert health.json() == {"status": "alive"}
        assert time.monotonic() - started < 2.0, "answers promptly beside the idle sockets"
        assert threading.active_count() <= threads_before, "no thread per connection"


def test_a_silent_half_sent_request_is_dropped_after_the_idle_timeout(
    sqlite_store: Store,
) -> None:
    with running(sqlite_store, idle_timeout="1s") as server, _connect(server.port) as conn:
        conn.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        started = time.monotonic()
        conn.settimeout(10)
        assert conn.recv(1024) == b"", "the server closed the connection"
        waited = time.monotonic() - started
        assert 0.9 <= waited < 5, waited


def test_a_request_trickled_byte_by_byte_is_dropped_after_the_idle_timeout(
    sqlite_store: Store,
) -> None:
    with running(sqlite_store, idle_timeout="1s") as server, _connect(server.port) as conn:
        started = time.monotonic()
        conn.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        closed_after = None
        for _ in range(50):  # a byte every 0.1 s: the connection is never idle
            try:
                conn.sendall(b"a")
                readable, _, _ = select.select([conn], [], [], 0.1)
                if readable and conn.recv(1024) == b"":
                    raise ConnectionAbortedError
            except OSError:  # closed or reset by the server
                closed_after = time.monotonic() - started
                break
        assert closed_after is not None, "the trickling request was dropped"
        assert 0.9 <= closed_after < 4, closed_after


def test_past_the_connection_limit_new_connections_wait_until_idle_ones_are_dropped(
    sqlite_store: Store,
) -> None:
    with (
        running(sqlite_store, connection_limit=8, idle_timeout="1s") as server,
        ExitStack() as held,
    ):
        for _ in range(8):
            held.enter_context(_connect(server.port))
        started = time.monotonic()
        health = httpx.get(f"http://127.0.0.1:{server.port}/healthz", timeout=10)
        assert health.status_code == 200
        assert 0.5 <= time.monotonic() - started < 6, "served once the idle ones were closed"


def test_a_busy_port_is_a_config_error_naming_it(sqlite_store: Store) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        http = HttpSection(port=port)
        with pytest.raises(ConfigError) as caught:
            status_server(sqlite_store, Metrics(sqlite_store), http, page=ReportPage(), clock=now)
    assert str(caught.value) == f"[http] port {port} on 127.0.0.1 is in use"


def test_run_on_a_busy_port_prints_one_line_and_exits_2(tmp_path: Path) -> None:
    config = write_agent(tmp_path)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "agent", "--config", str(config), "run"],
            env={"PARTNERLINK_HTTP__PORT": str(port), "PATH": "/usr/bin:/bin", "COLUMNS": "200"},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert result.returncode == 2, result.stderr
    assert result.stderr == f"error: [http] port {port} on 127.0.0.1 is in use\n"


def test_stop_closes_the_port_and_every_connection(sqlite_store: Store) -> None:
    with running(sqlite_store) as server, _connect(server.port) as idle:
        port = server.port
        server.stop()
        idle.settimeout(5)
        assert idle.recv(1024) == b"", "the idle connection was closed"
        with pytest.raises(ConnectionRefusedError):
            _connect(port).close()
    # stop() twice (here and by the context manager) is harmless
    assert server.port == port


def test_idle_timeout_outside_one_second_to_an_hour_is_refused() -> None:
    for wrong in ("0s", "2h"):
        with pytest.raises(ValueError, match="between 1s and 1h"):
            HttpSection(idle_timeout=wrong)  # type: ignore[arg-type]
    assert HttpSection(idle_timeout="5s").idle_timeout == timedelta(seconds=5)  # type: ignore[arg-type]
