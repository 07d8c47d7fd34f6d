"""Retries and restarts never duplicate (guarantee ticket-once): a ticket whose creation was answered with an error (the
answer lost after the PSA did the work) is found by its marker on the retry, not opened
again; a note likewise is not added twice; a reference the store lost is found again; a
ticket deleted in the PSA is replaced by a new one."""

from __future__ import annotations

import pytest
from sqlalchemy import delete

from agent.store.alert_models import AlertReference
from tests.alerts.psa.run import StandIn, alerts, references, run
from tests.alerts.support import finding
from tests.conftest import Clock

pytestmark = pytest.mark.anyio


async def test_a_lost_answer_to_the_create_does_not_open_a_second_ticket(
    psa: StandIn, sqlite_url: str, clock: Clock
) -> None:
    psa.server.fail(*psa.CREATE, 502, after=True)
    summary = await run(sqlite_url, alerts(psa), clock, 1, add=[finding("fp1", now=clock())])
    assert (summary.retried, summary.sent, summary.dead) == (1, 1, 0)
    (ticket,) = psa.book.tickets.values()
    assert ticket.notes == [], "the retry saw its own description and added nothing"
    assert references(sqlite_url, psa.kind, ["fp1"]) == {"fp1": str(ticket.id)}


async def test_a_lost_answer_to_a_note_does_not_add_it_twice(
    psa: StandIn, sqlite_url: str, clock: Clock
) -> None:
    config = alerts(psa)
    await run(sqlite_url, config, clock, 1, add=[finding("fp1", now=clock())])
    clock.advance(days=2)
    psa.server.fail(*psa.NOTE, 500, after=True)
    summary = await run(sqlite_url, config, clock, 2)
    assert (summary.retried, summary.sent, summary.dead) == (1, 1, 0)
    (ticket,) = psa.book.tickets.values()
    assert len(ticket.notes) == 1 and "Still firing" in ticket.notes[0]


async def test_a_reference_the_store_lost_is_found_again_by_the_ticket_marker(
    psa: StandIn, sqlite_url: str, clock: Clock
) -> None:
    config = alerts(psa)
    await run(sqlite_url, config, clock, 1, add=[finding("fp1", now=clock())])
    clock.advance(days=2)
    summary = await run(
        sqlite_url, config, clock, 2, change=lambda s: s.execute(delete(AlertReference))
    )
    assert (summary.sent, summary.dead) == (1, 0)
    (ticket,) = psa.book.tickets.values()
    assert len(ticket.notes) == 1
    assert references(sqlite_url, psa.kind, ["fp1"]) == {"fp1": str(ticket.id)}


async def test_a_ticket_deleted_in_the_psa_is_replaced_on_the_next_repeat(
    psa: StandIn, sqlite_url: str, clock: Clock
) -> None:
    config = alerts(psa)
    await run(sqlite_url, config, clock, 1, add=[finding("fp1", now=clock())])
    (gone,) = psa.book.tickets
    del psa.book.tickets[gone]
    clock.advance(days=2)
    summary = await run(sqlite_url, config, clock, 2)
    assert (summary.sent, summary.dead) == (1, 0)
    (ticket,) = psa.book.tickets.values()
    assert ticket.id != gone and ticket.open
    assert references(sqlite_url, psa.kind, ["fp1"]) == {"fp1": str(ticket.id)}


async def test_a_refusal_is_permanent_and_leaves_no_ticket_behind(
    psa: StandIn, sqlite_url: str, clock: Clock
) -> None:
    psa.server.fail(*psa.CREATE, 400)
    summary = await run(sqlite_url, alerts(psa), clock, 1, add=[finding("fp1", now=clock())])
    assert (summary.sent, summary.dead) == (0, 1)
    assert summary.errors[0].startswith(f"{psa.kind}: HTTP 400")
    assert psa.book.tickets == {}
    assert references(sqlite_url, psa.kind, ["fp1"]) == {}
