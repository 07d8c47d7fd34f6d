"""Fixtures of the PSA sink tests: each stand-in running on its own HTTPS port."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.alerts.psa.run import STANDINS, StandIn


@pytest.fixture(params=sorted(STANDINS))
def psa(request: pytest.FixtureRequest) -> Iterator[StandIn]:
    """Each PSA's stand-in in turn."""
    with STANDINS[request.param]() as running:
        yield running


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A store on SQLite, for the cases whose point is not the database."""
    return f"sqlite:///{tmp_path / 'store.db'}"
