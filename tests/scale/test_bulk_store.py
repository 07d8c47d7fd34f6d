"""Set-based loads on SQLite and PostgreSQL: many scopes per transaction, long listings in
chunks, statements under SQLite's bound-parameter limit, guarantees atomic-customer, idempotent-sync, soft-delete kept."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, select

from agent.store import ScopeResult, ScopeStatus, Store
from agent.store.models import Observation, ObservationEvent, SourceStatus
from agent.store.repository import MAX_BOUND_PARAMETERS
from agent.sync import RecordSpool
from connectors.records.customers import CspSubscription
from connectors.records.gdap import GdapRelationship, GdapStatus
from tests.conftest import Clock


def _subscription(tenant: str, n: int, quantity: int = 1) -> CspSubscription:
    return CspSubscription(
        customer_tenant_id=tenant, subscription_id=f"sub-{n:06d}", quantity=quantity
    )


def _gdap(n: int, status: GdapStatus = GdapStatus.ACTIVE) -> GdapRelationship:
    return GdapRelationship(
        relationship_id=f"rel-{n:06d}", customer_tenant_id=f"c-{n % 997}", status=status
    )


def _result(
    source: str,
    scope: str,
    records: Any,
    *,
    kinds: tuple[str, ...],
    customer: str | None = None,
    status: ScopeStatus = ScopeStatus.COMPLETE,
) -> ScopeResult:
    return ScopeResult(
        source=source,
        scope=scope,
        customer_tenant_id=customer,
        kinds=kinds,
        status=status,
        records=records,
    )


def _customer(tenant: str, subscriptions: int, quantity: int = 1) -> ScopeResult:
    return _result(
        "partner_center.subscriptions",
        tenant,
        [_subscription(tenant, n, quantity) for n in range(subscriptions)],
        kinds=(CspSubscription.KIND,),
        customer=tenant,
    )


@pytest.fixture
def parameters(store: Store) -> Iterator[list[int]]:
    """The number of bound parameters of every statement the store sends."""
    seen: list[int] = []

    def count(
        _conn: Any, _cursor: Any, _statement: str, params: Any, _context: Any, executemany: bool
    ) -> None:
        rows = params if executemany else [params]
        seen.extend(len(p) if isinstance(p, tuple | list | dict) else 0 for p in rows)

    event.listen(store.engine, "before_cursor_execute", count)
    yield seen
    event.remove(store.engine, "before_cursor_execute", count)


def test_a_batch_of_customers_loads_in_one_transaction(store: Store, clock: Clock) -> None:
    run = store.start_run(clock())
    results = [_customer(f"tenant-{n:04d}", 5) for n in range(300)]
    stats = store.save(run, results, clock())
    assert stats.added == 1500
    counts = store.counts()
    assert counts["observation"] == counts["observation_event"] == 1500
    statuses = store.statuses(run)
    assert len(statuses) == 300
    assert {s.records for s in statuses.values()} == {5}


def test_a_long_listing_streams_from_a_spool_under_the_parameter_limit(
    store: Store, clock: Clock, parameters: list[int]
) -> None:
    spool = RecordSpool(batch=700)
    spool.extend(_gdap(n) for n in range(6000))
    run = store.start_run(clock())
    stats = store.save(
        run, [_result("graph.gdap", "partner", spool, kinds=(GdapRelationship.KIND,))], clock()
    )
    spool.close()
    assert stats.added == 6000
    assert store.statuses(run)[("graph.gdap", "partner")].records == 6000
    assert max(parameters) <= MAX_BOUND_PARAMETERS


def test_changes_restores_and_removals_are_set_based_and_scoped(store: Store, clock: Clock) -> None:
    """guarantee soft-delete: only complete scopes lose records; guarantee idempotent-sync: an identical re-load changes nothing."""
    first = store.start_run(clock())
    store.save(first, [_customer("a", 700), _customer("b", 3)], clock())
    clock.advance(days=1)
    second = store.start_run(clock())
    changed = _customer("a", 650, quantity=2)  # 650 changed, 50 gone
    failed = _result(
        "partner_center.subscriptions",
        "b",
        [],
        kinds=(CspSubscription.KIND,),
        customer="b",
        status=ScopeStatus.FAILED,
    )
    stats = store.save(second, [changed, failed], clock())
    assert (stats.added, stats.changed, stats.removed) == (0, 650, 50)
    assert len(store.current(customers=["b"])) == 3, (
        "a failed read removes nothing (guarantee failed-read)"
    )
    clock.advance(days=1)
    third = store.start_run(clock())
    stats = store.save(third, [_customer("a", 700, quantity=2)], clock())
    assert (stats.restored, stats.unchanged, stats.added) == (50, 650, 0)
    with store.read() as s:
        before = [
            (o.id, o.payload, o.removed_at)
            for o in s.scalars(select(Observation).order_by(Observation.id))
        ]
        events = s.scalar(select(ObservationEvent.id).order_by(ObservationEvent.id.desc()).limit(1))  # type: ignore[union-attr]
    clock.advance(days=1)
    fourth = store.start_run(clock())
    stats = store.save(fourth, [_customer("a", 700, quantity=2)], clock())
    assert (stats.added, stats.changed, stats.removed, stats.restored) == (0, 0, 0, 0)
    with store.read() as s:
        after = [
            (o.id, o.payload, o.removed_at)
            for o in s.scalars(select(Observation).order_by(Observation.id))
        ]
        assert (
            s.scalar(select(ObservationEvent.id).order_by(ObservationEvent.id.desc()).limit(1))
            == events
        )  # type: ignore[union-attr]
    assert after == before


def test_the_same_fact_twice_in_one_listing_keeps_the_first(store: Store, clock: Clock) -> None:
    records = [_subscription("a", n % 600, quantity=n // 600 + 1) for n in range(1200)]
    run = store.start_run(clock())
    stats = store.save(
        run,
        [
            _result(
                "partner_center.subscriptions",
                "a",
                records,
                kinds=(CspSubscription.KIND,),
                customer="a",
            )
        ],
        clock(),
    )
    assert stats.added == 600
    assert {o.record.quantity for o in store.current()} == {1}  # type: ignore[attr-defined]


def test_an_opened_scope_is_closed_in_place(store: Store, clock: Clock) -> None:
    run = store.start_run(clock())
    placeholder = _result("graph.gdap", "partner", [], kinds=(GdapRelationship.KIND,))
    store.open_scopes(run, [placeholder], clock())
    with store.read() as s:
        opened = s.scalars(select(SourceStatus)).one()
    assert opened.status == "running"
    clock.advance(minutes=5)
    store.save(
        run, [_result("graph.gdap", "partner", [_gdap(1)], kinds=(GdapRelationship.KIND,))], clock()
    )
    closed = store.statuses(run)[("graph.gdap", "partner")]
    assert (closed.id, closed.status, closed.records) == (opened.id, "complete", 1)
    assert closed.finished_at == clock()
    assert closed.finished_at - opened.finished_at == timedelta(minutes=5)
