"""The dispatcher (guarantee outbox): retries with backoff until a deadline, permanent failures dead and
logged once, at-least-once after a crash, and never the same row twice from two senders."""

from __future__ import annotations

import asyncio
import random
import threading
from datetime import timedelta
from typing import Any

import pytest
import structlog
from sqlalchemy import select

from agent.alerts.dispatcher import Dispatcher, RetrySchedule
from agent.alerts.errors import PermanentDeliveryError, TransientDeliveryError
from agent.alerts.grouping import group_messages
from agent.alerts.message import Action, AlertItem, Message
from agent.alerts.outbox import enqueue
from agent.alerts.sinkset import build_sinks
from agent.store import Outcome, Store
from agent.store.alert_models import AlertDelivery, AlertOutbox, DeliveryStatus, OutboxStatus
from tests.alerts.conftest import config_for
from tests.alerts.support import Receiver, RecordingSink, Reply, virtual_sleep
from tests.conftest import T0, Clock

pytestmark = pytest.mark.anyio


def message(n: int = 1) -> Message:
    item = AlertItem(
        fingerprint=f"fp{n}",
        rule="link_missing",
        severity="high",
        status="open",
        title=f"PAL missing {n}",
        customer_tenant_id="t",
    )
    return group_messages([(item, Action.FIRST)], max_items=10, run_id=1, now=T0)[0]


def put(store: Store, sink: str, count: int = 1) -> list[int]:
    ids: list[int] = []
    with store.transaction() as tx:
        for n in range(count):
            row = enqueue(tx.outbox, message(n), sink=sink, now=T0, run_id=1)
            assert row.id is not None
            ids.append(row.id)
    return ids


def rows(store: Store) -> list[AlertOutbox]:
    with store.read() as s:
        return list(s.scalars(select(AlertOutbox).order_by(AlertOutbox.id)))  # type: ignore[arg-type]


def deliveries(store: Store) -> list[AlertDelivery]:
    with store.read() as s:
        return list(s.scalars(select(AlertDelivery).order_by(AlertDelivery.id)))  # type: ignore[arg-type]


def dispatcher(store: Store, sinks: Any, clock: Clock, **kw: Any) -> Dispatcher:
    return Dispatcher(
        store,
        sinks,
        worker=kw.pop("worker", "w1"),
        clock=clock,
        sleep=virtual_sleep(clock),
        rng=random.Random(7),
        **kw,
    )


async def test_a_5xx_then_200_is_retried_and_sent_once(
    sqlite_store: Store,
    receiver: Receiver,
    clock: Clock,
) -> None:
    receiver.script(Reply(503, b"busy"), Reply(500, b"boom"), Reply(200, b"ok"))
    put(sqlite_store, "webhook")
    async with build_sinks(config_for(receiver), clock=clock) as sinks:
        summary = await dispatcher(sqlite_store, sinks, clock).drain(wait=True)
    assert (summary.sent, summary.retried, summary.dead) == (1, 2, 0)
    assert len(receiver.requests) == 3
    assert len({r.headers["idempotency-key"] for r in receiver.requests}) == 1
    (row,) = rows(sqlite_store)
    assert (row.status, row.attempts, row.last_error) == ("sent", 3, None)
    assert row.sent_at is not None
    assert row.sent_at > T0, "waited on virtual time"
    assert [(d.status, d.status_code) for d in deliveries(sqlite_store)] == [
        ("transient", 503),
        ("transient", 500),
        ("sent", 200),
    ]


async def test_retry_after_is_honoured(
    sqlite_store: Store, receiver: Receiver, clock: Clock
) -> None:
    receiver.script(Reply(429, b"", {"Retry-After": "120"}))
    put(sqlite_store, "slack")
    async with build_sinks(config_for(receiver), clock=clock) as sinks:
        await dispatcher(sqlite_store, sinks, clock).drain()
    (row,) = rows(sqlite_store)
    assert row.status == "pending"
    assert row.next_attempt_at == T0 + timedelta(seconds=120)


async def test_a_400_is_dead_at_once_and_logged_once_as_an_error(
    sqlite_store: Store,
    receiver: Receiver,
    clock: Clock,
) -> None:
    receiver.default = Reply(400, b"invalid_payload")
    put(sqlite_store, "slack")
    async with build_sinks(config_for(receiver), clock=clock) as sinks:
        with structlog.testing.capture_logs() as logs:
            disp = dispatcher(sqlite_store, sinks, clock)
            await disp.drain(wait=True)
            await disp.drain(wait=True)
    errors = [e for e in logs if e["log_level"] == "error"]
    assert len(errors) == 1
    assert errors[0]["event"] == "alert_delivery_failed"
    assert errors[0]["sink"] == "slack"
    assert errors[0]["status_code"] == 400
    assert len(receiver.requests) == 1
    (row,) = rows(sqlite_store)
    assert row.status == "dead"
    assert row.last_error == "HTTP 400: invalid_payload"


async def test_transient_failures_give_up_at_the_deadline(
    sqlite_store: Store, clock: Clock
) -> None:
    sink = RecordingSink("rec", failures=[TransientDeliveryError("HTTP 503", status=503)] * 50)
    put(sqlite_store, "rec")
    disp = dispatcher(
        sqlite_store,
        {"rec": sink},
        clock,
        deadline=timedelta(hours=1),
        schedule=RetrySchedule(base=timedelta(seconds=30), cap=timedelta(minutes=10)),
    )
    with structlog.testing.capture_logs() as logs:
        summary = await disp.drain(wait=True)
    assert summary.dead == 1
    assert summary.sent == 0
    assert 3 < summary.attempts < 20, "backoff grew; it did not hammer the sink"
    assert clock.now - T0 <= timedelta(hours=1)
    assert [e["event"] for e in logs if e["log_level"] == "error"] == ["alert_delivery_gave_up"]
    assert rows(sqlite_store)[0].status == "dead"


def test_backoff_is_exponential_jittered_and_capped() -> None:
    schedule = RetrySchedule(base=timedelta(seconds=10), cap=timedelta(seconds=60))
    rng = random.Random(1)
    delays = [schedule.delay(n, None, rng).total_seconds() for n in range(1, 7)]
    assert 5 <= delays[0] <= 10
    assert 10 <= delays[1] <= 20
    assert 20 <= delays[2] <= 40
    assert all(30 <= d <= 60 for d in delays[3:])
    assert schedule.delay(1, 7.0, rng) == timedelta(seconds=7)


async def test_the_delivery_row_exists_before_the_request_leaves(
    sqlite_store: Store,
    clock: Clock,
) -> None:
    seen: list[list[tuple[str, int]]] = []

    def look(_message: Message) -> None:
        seen.append([(d.status, d.attempt) for d in deliveries(sqlite_store)])

    put(sqlite_store, "rec")
    sink = RecordingSink("rec", on_send=look)
    await dispatcher(sqlite_store, {"rec": sink}, clock).drain()
    assert seen == [[("sending", 1)]]
    assert [d.status for d in deliveries(sqlite_store)] == ["sent"]


async def test_a_sender_killed_after_claiming_is_covered_after_the_lease(
    sqlite_store: Store,
    clock: Clock,
) -> None:
    put(sqlite_store, "rec")
    lease = timedelta(minutes=5)
    (lost,) = sqlite_store.claim_outbox(
        worker="dead-worker", now=clock(), lease=lease
    )  # then: kill -9
    sink = RecordingSink("rec")
    survivor = dispatcher(sqlite_store, {"rec": sink}, clock, worker="w2", lease=lease)
    assert (await survivor.drain()).attempts == 0, "a live claim is not stolen"
    assert sink.sent == []
    assert sqlite_store.next_outbox_wakeup(lease=lease) == T0 + lease
    clock.advance(minutes=5)
    summary = await survivor.drain()
    assert summary.sent == 1
    assert len(sink.sent) == 1, "re-sent after restart: at-least-once"
    (row,) = rows(sqlite_store)
    assert (row.status, row.attempts, row.claimed_by) == ("sent", 2, "w2")
    assert [d.status for d in deliveries(sqlite_store)] == ["sending", "sent"]
    late = sqlite_store.record_delivery(
        lost,
        Outcome(DeliveryStatus.SENT, OutboxStatus.SENT),
        worker="dead-worker",
        now=clock(),
    )
    assert late is False, "a claim that expired cannot overwrite its successor's outcome"


async def test_an_unknown_sink_or_a_sink_bug_makes_the_row_dead(
    sqlite_store: Store, clock: Clock
) -> None:
    put(sqlite_store, "gone")
    put(sqlite_store, "rec")
    sink = RecordingSink("rec", failures=[PermanentDeliveryError("HTTP 403", status=403)])
    summary = await dispatcher(sqlite_store, {"rec": sink}, clock).drain()
    assert summary.dead == 2
    assert sqlite_store.outbox_counts() == {"dead": 2}


def _drain_in_thread(
    url: str, worker: str, sink: RecordingSink, clock: Clock, summaries: list[Any]
) -> None:
    store = Store.open(url, upgrade=False)
    try:
        disp = Dispatcher(
            store,
            {"rec": sink},
            worker=worker,
            clock=clock,
            batch=3,
            concurrency=3,
            rng=random.Random(worker),
        )
        summaries.append(asyncio.run(disp.drain()))
    finally:
        store.close()


def test_two_dispatchers_on_one_database_never_send_a_row_twice(
    store: Store,
    store_url: str,
    clock: Clock,
) -> None:
    ids = put(store, "rec", count=60)
    both_sending = threading.Barrier(2)
    started: set[str] = set()

    def hold_first_send_until_both_send(_message: Message) -> None:
        # Each worker's first send waits for the other's: both hold claims at the same time.
        me = threading.current_thread().name
        if me not in started:
            started.add(me)
            both_sending.wait(timeout=10)

    sink = RecordingSink("rec", delay=0.002, on_send=hold_first_send_until_both_send)
    summaries: list[Any] = []
    threads = [
        threading.Thread(
            target=_drain_in_thread, name=f"w{n}", args=(store_url, f"w{n}", sink, clock, summaries)
        )
        for n in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    sent = [m.idempotency_key for m in sink.sent]
    assert len(sent) == len(set(sent)) == 60
    assert sorted(s.sent > 0 for s in summaries) == [True, True], "both workers took part"
    assert all(r.status == "sent" and r.attempts == 1 for r in rows(store))
    assert {r.id for r in rows(store)} == set(ids)
    assert len(deliveries(store)) == 60
    assert {d.worker for d in deliveries(store)} == {"w0", "w1"}


async def test_serve_drains_until_stopped(sqlite_store: Store, clock: Clock) -> None:
    put(sqlite_store, "rec", count=3)
    sink = RecordingSink("rec")
    stop = asyncio.Event()
    disp = dispatcher(sqlite_store, {"rec": sink}, clock)

    sink.on_send = lambda _m: stop.set() if len(sink.sent) == 2 else None
    await asyncio.wait_for(disp.serve(stop, poll=0.05), 10)
    assert len(sink.sent) == 3


def test_a_claimed_row_is_not_claimed_again_within_its_lease(store: Store, clock: Clock) -> None:
    put(store, "rec", count=2)
    lease = timedelta(minutes=5)
    first = store.claim_outbox(worker="a", now=clock(), lease=lease, limit=1)
    second = store.claim_outbox(worker="b", now=clock(), lease=lease)
    third = store.claim_outbox(worker="c", now=clock(), lease=lease)
    assert [c.outbox_id for c in first] != [c.outbox_id for c in second]
    assert len(first) == len(second) == 1
    assert third == []
