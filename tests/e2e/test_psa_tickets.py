"""Tickets in the PSA end to end: real cycles through the composition root, a fresh process
(Agent) every night, each PSA's stand-in as the sink: a PAL that disappears opens one ticket,
the next night past the repeat interval adds a note to it, the PAL's return closes it
(guarantees ticket-once, dedup-and-repeat, resolve-once)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agent.app import Agent
from agent.config import load_settings
from tests.alerts.psa.run import STANDINS, StandIn
from tests.conftest import Clock
from tests.e2e.test_cycles import make_config, write_world
from tests.worlds import C1, C2, SUB1, SUB2, customer

PRESENT = (customer(C1, SUB1), customer(C2, SUB2))
PAL_GONE = (customer(C1, SUB1, pal=None), customer(C2, SUB2))


@pytest.fixture(params=sorted(STANDINS))
def psa(request: pytest.FixtureRequest) -> Iterator[StandIn]:
    """Each PSA's stand-in over plain HTTP: the agent's own clients trust only the system's
    certificate authorities (the TLS path is proven in tests/alerts/psa)."""
    with STANDINS[request.param](tls=False) as running:
        yield running


def _config(folder: Path, psa: StandIn) -> Path:
    config = make_config(folder)  # K = 2 before opening a disappearance and before resolving
    sink = "\n".join(f"{key} = {json.dumps(value)}" for key, value in psa.sink().items())
    config.write_text(
        config.read_text() + '\n[alerts]\nrepeat_interval = "2d"\n\n[[alerts.sinks]]\n' + sink
    )
    return config


def _night(config: Path, clock: Clock, *world: dict[str, Any]) -> None:
    """One night: a new process syncs, audits and delivers."""
    write_world(config.parent, *world)
    clock.advance(days=1)
    with Agent(load_settings(config), clock=clock) as agent:
        synced, audited = agent.cycle(trigger="schedule")
        assert audited is not None, synced


def test_a_disappearing_pal_opens_a_ticket_notes_it_and_closes_it_night_by_night(
    tmp_path: Path, psa: StandIn, clock: Clock
) -> None:
    config = _config(tmp_path, psa)
    _night(config, clock, *PRESENT)
    _night(config, clock, *PAL_GONE)
    assert psa.book.tickets == {}, "pending for one run: no ticket yet"

    _night(config, clock, *PAL_GONE)
    (ticket,) = psa.book.tickets.values()
    assert ticket.open and ticket.title.startswith("Customer c1: PAL on azure")
    assert "[PL-" in ticket.title and "disappeared" in ticket.description
    assert C1 in ticket.description

    _night(config, clock, *PAL_GONE)
    assert ticket.notes == [], "within the repeat interval: nothing"
    _night(config, clock, *PAL_GONE)
    (note,) = ticket.notes
    assert note.startswith(("Still firing", "<p><b>Still firing"))

    _night(config, clock, *PRESENT)
    assert ticket.open, "cleared once: not yet resolved (K = 2)"
    _night(config, clock, *PRESENT)
    assert not ticket.open and len(ticket.notes) == 2 and "Resolved" in ticket.notes[-1]
    assert list(psa.book.tickets) == [ticket.id], "one ticket all along"

    _night(config, clock, *PRESENT)
    assert len(ticket.notes) == 2 and not ticket.open, "exactly one resolve"
