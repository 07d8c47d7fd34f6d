"""Fixtures: an emulator serving the test world from a file, and an HTTPS client trusting it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from standin.emulator import Emulator
from tests.emulator.support import client, world, write

MakeEmulator = Callable[..., Emulator]


@pytest.fixture
def make_emulator(tmp_path: Path) -> Iterator[MakeEmulator]:
    """Start an emulator on a scenario file (default: the test world); stopped at teardown."""
    started: list[Emulator] = []

    def make(data: dict[str, Any] | None = None, **kw: Any) -> Emulator:
        path = write(tmp_path / f"scenario-{len(started)}.json", data or world())
        emulator = Emulator(path, **kw).start()
        started.append(emulator)
        return emulator

    yield make
    for emulator in started:
        emulator.stop()


@pytest.fixture
def emulator(make_emulator: MakeEmulator) -> Emulator:
    return make_emulator()


@pytest.fixture
def http(emulator: Emulator) -> Iterator[httpx.Client]:
    with client(emulator.base_url, emulator.ca_path) as c:
        yield c
