"""Each PSA sink against its stand-in, every step in a new process on the same database: a
finding opens a ticket, a repeat adds a note to it instead of a new ticket, the resolve closes
it in the configured status; the ticket's id is the finding's external reference throughout,
on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from tests.alerts.psa.run import StandIn, alerts, references, run
from tests.alerts.support import finding, set_status
from tests.conftest import Clock

pytestmark = pytest.mark.anyio


async def test_a_ticket_opens_gets_a_note_on_repeat_and_closes_on_resolve_across_restarts(
    psa: StandIn, store_url: str, clock: Clock
) -> None:
    close_config, closed_status = psa.closing
    config = alerts(psa, **close_config)

    first = await run(store_url, config, clock, 1, add=[finding("fp1", now=clock())])
    assert (first.sent, first.dead) == (1, 0)
    (ticket,) = psa.book.tickets.values()
    assert ticket.open and ticket.title.startswith("Contoso: PAL missing (fp1) [PL-")
    assert "What to do: Link the partner ID" in ticket.description
    assert "partnerlink explain fp1" in ticket.description
    assert ticket.notes == []
    assert references(store_url, psa.kind, ["fp1"]) == {"fp1": str(ticket.id)}

    clock.advance(days=2)  # a new process: the repeat is due
    again = await run(store_url, config, clock, 2)
    assert (again.sent, again.dead) == (1, 0)
    assert list(psa.book.tickets) == [ticket.id], "a note, not a second ticket"
    (note,) = ticket.notes
    assert "Still firing: PAL missing (fp1)" in note and "run 2" in note
    assert ticket.open

    clock.advance(days=1)  # another process: the finding resolved
    last = await run(store_url, config, clock, 3, resolve=["fp1"])
    assert (last.sent, last.dead) == (1, 0)
    assert list(psa.book.tickets) == [ticket.id]
    assert not ticket.open and ticket.status == closed_status
    assert "Resolved: PAL missing (fp1)" in ticket.notes[-1]
    assert references(store_url, psa.kind, ["fp1"]) == {"fp1": str(ticket.id)}
    creates = [r for r in psa.server.requests if (r.method, r.path) == psa.CREATE]
    assert len([r for r in creates if "PAL missing" in r.body.decode()]) == 1


async def test_firing_again_after_the_resolve_opens_a_new_ticket(
    psa: StandIn, sqlite_url: str, clock: Clock
) -> None:
    config = alerts(psa)
    await run(sqlite_url, config, clock, 1, add=[finding("fp1", now=clock())])
    clock.advance(days=1)
    await run(sqlite_url, config, clock, 2, resolve=["fp1"])
    clock.advance(days=1)

    await run(sqlite_url, config, clock, 3, change=lambda s: set_status(s, "fp1", "open"))
    old, new = psa.book.tickets.values()
    assert not old.open and new.open
    assert "Firing again: PAL missing (fp1)" in new.description
    assert references(sqlite_url, psa.kind, ["fp1"]) == {"fp1": str(new.id)}


async def test_one_ticket_per_finding_even_for_a_group_message(
    psa: StandIn, sqlite_url: str, clock: Clock
) -> None:
    found = [finding(f"fp{i}", now=clock()) for i in range(12)]  # more than group_max_items
    summary = await run(sqlite_url, alerts(psa), clock, 1, add=found)
    assert (summary.sent, summary.dead) == (1, 0), "one grouped message"
    titles = sorted(t.title for t in psa.book.tickets.values())
    assert len(titles) == 12 and all(t.startswith("Contoso: PAL missing (fp") for t in titles)
    kept = references(sqlite_url, psa.kind, [f.fingerprint for f in found])
    assert sorted(kept.values(), key=int) == [str(i) for i in sorted(psa.book.tickets)]
