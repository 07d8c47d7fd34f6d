"""A daemon serving its endpoint on a free loopback port, over a two-customer world, for the
endpoint's tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from agent.app import Agent
from agent.config import load_settings
from agent.daemon import Daemon
from tests.e2e.test_cycles import make_config, write_world
from tests.worlds import C1, C2, SUB1, SUB2, customer

TOKEN = "9f2c61d0a4b84e7c-web-token-7d3e"
NAMES = ("Customer c1", "Customer c2")
TENANTS = (C1, C2)


def write_agent(folder: Path, http: str = "", faults: list[dict[str, Any]] | None = None) -> Path:
    """A fake-mode agent whose schedule never fires during a test; ``http`` adds [http] keys."""
    config = make_config(folder)
    config.write_text(
        config.read_text()
        + '[schedule]\ninterval = "24h"\ncatch_up = false\n[http]\nport = 0\n'
        + http
    )
    write_world(folder, customer(C1, SUB1), customer(C2, SUB2), faults=faults)
    return config


@contextmanager
def serving(daemon_class: type[Daemon], config: Path) -> Iterator[tuple[Daemon, str]]:
    with Agent(load_settings(config)) as agent:
        daemon = daemon_class(agent)
        daemon.start()
        try:
            assert daemon.server is not None
            yield daemon, f"http://127.0.0.1:{daemon.server.port}"
        finally:
            daemon.stop()


def now() -> datetime:
    return datetime.now(UTC)
