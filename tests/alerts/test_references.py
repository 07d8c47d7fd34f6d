"""A sink keeps an external id per finding (a ticket or incident number): it returns the id
from ``send``, the dispatcher stores it, and every later message about that finding carries it,
the resolve included, across restarts (a new Store on the same database), on SQLite and
PostgreSQL."""

from __future__ import annotations

import random

import pytest

from agent.alerts.config import AlertsConfig
from agent.alerts.dispatcher import Dispatcher
from agent.alerts.message import Message
from agent.alerts.outbox import plan_and_enqueue
from agent.alerts.sinks.base import DeliveryResult
from agent.store import Store
from tests.alerts.support import CUSTOMER_B, finding, set_status, virtual_sleep
from tests.conftest import T0, Clock

pytestmark = pytest.mark.anyio

CONFIG = AlertsConfig.model_validate(
    {
        "repeat_interval": "1d",
        "sinks": [
            {
                "type": "webhook",
                "name": "tickets",
                "url": "http://127.0.0.1:9/tickets",
                "allow_private": True,
                "secret": "0123456789abcdef",
            }
        ],
    }
)


class TicketSink:
    """A recording sink that opens a ticket for each finding it has no ticket for yet, and
    answers with the tickets' numbers."""

    kind = "tickets"

    def __init__(self, first_number: int = 1, *, stray: bool = False) -> None:
        self.received: list[tuple[str, dict[str, str]]] = []
        self.next_number = first_number
        self.stray = stray
        """Also answer with an id for a finding the message is not about."""

    @property
    def name(self) -> str:
        return "tickets"

    async def send(self, message: Message) -> DeliveryResult:
        self.received.append((message.action.value, dict(message.references)))
        opened: dict[str, str] = {}
        for fp in message.fingerprints:
            if fp not in message.references:
                opened[fp] = f"INC-{self.next_number}"
                self.next_number += 1
        if self.stray:
            opened["not-in-this-message"] = "INC-999"
        return DeliveryResult(201, references=opened)

    async def aclose(self) -> None:
        return None


def _plan(store: Store, clock: Clock, run_id: int) -> None:
    with store.transaction() as tx:
        plan_and_enqueue(tx.outbox, run_id=run_id, now=clock(), config=CONFIG, rule_titles={})


async def _drain(store: Store, sink: TicketSink, clock: Clock) -> None:
    dispatcher = Dispatcher(
        store,
        {"tickets": sink},
        worker="w",
        clock=clock,
        sleep=virtual_sleep(clock),
        rng=random.Random(3),
    )
    summary = await dispatcher.drain()
    assert summary.sent >= 1 and summary.dead == 0


async def test_the_id_a_sink_returns_on_open_comes_back_on_repeat_and_resolve_after_restarts(
    store_url: str, clock: Clock
) -> None:
    store = Store.open(store_url)
    with store.write() as s:
        s.add(finding("fp1", now=clock()))
    _plan(store, clock, run_id=1)
    first = TicketSink(first_number=41)
    await _drain(store, first, clock)
    store.close()
    assert first.received == [("first", {})]

    clock.advance(days=2)  # a new process: the repeat is due
    store = Store.open(store_url)
    _plan(store, clock, run_id=2)
    again = TicketSink(first_number=500)
    await _drain(store, again, clock)
    store.close()
    assert again.received == [("repeat", {"fp1": "INC-41"})]

    clock.advance(days=1)  # another process: the finding resolved
    store = Store.open(store_url)
    with store.write() as s:
        set_status(s, "fp1", "resolved")
    _plan(store, clock, run_id=3)
    last = TicketSink(first_number=900)
    await _drain(store, last, clock)
    assert last.received == [("resolved", {"fp1": "INC-41"})]
    assert store.references("tickets", ["fp1"]) == {"fp1": "INC-41"}
    store.close()


async def test_each_finding_of_a_group_keeps_its_own_id_and_nothing_else_is_kept(
    store: Store, clock: Clock
) -> None:
    with store.write() as s:
        s.add(finding("fp1", now=clock()))
        s.add(finding("fp2", customer=CUSTOMER_B, now=clock()))
    _plan(store, clock, run_id=1)
    sink = TicketSink(stray=True)
    await _drain(store, sink, clock)
    (action, known), *_ = sink.received
    assert (action, known) == ("first", {})
    kept = store.references("tickets", ["fp1", "fp2", "not-in-this-message"])
    assert sorted(kept.values()) == ["INC-1", "INC-2"]
    assert set(kept) == {"fp1", "fp2"}, "an id for a finding the message is not about is dropped"
    assert store.references("other-sink", ["fp1", "fp2"]) == {}, "ids are kept per sink"


async def test_a_new_id_from_the_service_replaces_the_kept_one(store: Store, clock: Clock) -> None:
    with store.write() as s:
        s.add(finding("fp1", now=clock()))
    _plan(store, clock, run_id=1)
    await _drain(store, TicketSink(first_number=1), clock)

    class Reopening(TicketSink):
        async def send(self, message: Message) -> DeliveryResult:
            self.received.append((message.action.value, dict(message.references)))
            return DeliveryResult(201, references={"fp1": "INC-2"})

    clock.advance(days=2)
    _plan(store, clock, run_id=2)
    reopening = Reopening()
    await _drain(store, reopening, clock)
    assert reopening.received == [("repeat", {"fp1": "INC-1"})]
    assert store.references("tickets", ["fp1"]) == {"fp1": "INC-2"}


def test_the_outbox_row_and_the_webhook_body_never_carry_the_ids() -> None:
    message_with = Message.model_validate(
        {
            "dedup_key": "fp1",
            "idempotency_key": "fp1:first:r1",
            "kind": "first",
            "action": "first",
            "rule": "link_missing",
            "rule_title": "Link missing",
            "severity": "high",
            "title": "New: PAL missing",
            "total": 1,
            "items": [],
            "created_at": T0,
        }
    ).model_copy(update={"references": {"fp1": "INC-7"}})
    assert message_with.references == {"fp1": "INC-7"}
    assert "INC-7" not in message_with.to_json()
    assert "references" not in message_with.model_dump(mode="json")
    assert Message.from_json(message_with.to_json()).references == {}
