"""Sync over the fake connectors: ordering, per-scope status, and the trust rules guarantees failed-read, idempotent-sync, soft-delete."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from agent.store import RunStatus, Store
from agent.store.models import Observation
from agent.sync import Syncer
from connectors.base import Connector
from connectors.records.pal import PalLink
from connectors.records.scope import Source
from standin.fake import FakeWorld
from standin.scenario import Scenario
from tests.conftest import Clock
from tests.worlds import C1, C2, SUB1, SUB2, customer, world


def run_sync(store: Store, scenario: Scenario | FakeWorld, clock: Clock, **kw: Any):  # type: ignore[no-untyped-def]
    fake = scenario if isinstance(scenario, FakeWorld) else FakeWorld(scenario)
    connectors: Sequence[Connector] = fake.connectors()
    return asyncio.run(Syncer(store, connectors, clock=clock, **kw).run())


def _rows(store: Store) -> list[tuple[Any, ...]]:
    with store.read() as s:
        return [
            (o.kind, o.scope, o.key, o.payload, o.first_seen_at, o.removed_at)
            for o in s.scalars(select(Observation).order_by(Observation.id))
        ]


def test_healthy_world_syncs_completely(store: Store, clock: Clock) -> None:
    outcome = run_sync(store, world(), clock)
    assert outcome.status is RunStatus.COMPLETE
    assert outcome.customers == 2
    statuses = store.statuses(outcome.run_id)
    assert {s.status for s in statuses.values()} == {"complete"}
    assert ("arm.pal", f"{C1}/partner-app") in statuses
    assert ("partner_center.customers", "partner") in statuses


def test_failed_fetch_is_not_absence(store: Store, clock: Clock) -> None:
    """guarantee failed-read: subscriptions for C answer 503 three times and its PAL read 403."""
    run_sync(store, world(), clock)
    before = {r for r in _rows(store) if C1 in r[1]}
    faults = [
        {"source": "partner_center.subscriptions", "scope": C1, "status": 503, "times": 3},
        {"source": "arm.pal", "scope": C1, "status": 403},
    ]
    clock.advance(days=1)
    outcome = run_sync(store, world(faults=faults), clock)
    assert outcome.status is RunStatus.PARTIAL
    statuses = store.statuses(outcome.run_id)
    assert statuses[("partner_center.subscriptions", C1)].status == "failed"
    assert statuses[("partner_center.subscriptions", C1)].error_kind == "transient"
    assert statuses[("arm.pal", f"{C1}/partner-app")].error_kind == "auth"
    assert statuses[("partner_center.subscriptions", C2)].status == "complete"
    after = {r for r in _rows(store) if C1 in r[1]}
    failed_scopes = {C1, f"{C1}/partner-app"}
    assert {
        r for r in before if r[1] in failed_scopes and r[0] in ("csp_subscription", "pal_link")
    } <= after, "stored links of the failed scopes are unchanged"
    with store.read() as s:
        pal = s.scalars(
            select(Observation).where(
                Observation.kind == PalLink.KIND, Observation.customer_tenant_id == C1
            )
        ).one()
    assert pal.removed_at is None
    assert pal.last_seen_at < clock(), "last_seen untouched by a failed read"


def test_two_transient_failures_are_retried_to_success(store: Store, clock: Clock) -> None:
    faults = [{"source": "partner_center.subscriptions", "scope": C1, "status": 503, "times": 2}]
    outcome = run_sync(store, world(faults=faults), clock)
    assert outcome.status is RunStatus.COMPLETE


def test_identical_resync_is_idempotent(store: Store, clock: Clock) -> None:
    """guarantee idempotent-sync: two syncs of the same world leave the observations equal."""
    run_sync(store, world(), clock)
    first = _rows(store)
    clock.advance(days=1)
    outcome = run_sync(store, world(), clock)
    assert _rows(store) == first
    assert (outcome.load.added, outcome.load.changed, outcome.load.removed) == (0, 0, 0)


def test_vanished_record_is_marked_removed_only_in_its_scope(store: Store, clock: Clock) -> None:
    """guarantee soft-delete: a subscription gone from a complete read is removed; other customers untouched."""
    run_sync(store, world(), clock)
    clock.advance(days=1)
    c1 = customer(C1, SUB1, csp_subscriptions=[])
    outcome = run_sync(store, world(c1, customer(C2, SUB2)), clock)
    assert outcome.load.removed == 1
    with store.read() as s:
        subs = {
            (o.customer_tenant_id, o.removed_at is not None)
            for o in s.scalars(select(Observation).where(Observation.kind == "csp_subscription"))
        }
    assert subs == {(C1, True), (C2, False)}


def test_customer_sources_are_not_attempted_when_the_customer_list_failed(
    store: Store, clock: Clock
) -> None:
    run_sync(store, world(), clock)
    faults = [{"source": "partner_center.customers", "status": 500}]
    outcome = run_sync(store, world(faults=faults), clock)
    statuses = store.statuses(outcome.run_id)
    assert statuses[("partner_center.customers", "partner")].status == "failed"
    assert statuses[("partner_center.subscriptions", C1)].status == "not_attempted"
    assert statuses[("graph.subscribed_skus", C1)].status == "complete"


def test_time_budget_overrun_marks_customers_not_attempted(store: Store, clock: Clock) -> None:
    outcome = run_sync(store, world(), clock, time_budget=timedelta(seconds=-1))
    statuses = store.statuses(outcome.run_id)
    assert statuses[("arm.pal", f"{C1}/partner-app")].status == "not_attempted"
    assert statuses[("partner_center.customers", "partner")].status == "complete"
    assert outcome.status is RunStatus.PARTIAL


def test_unconsented_tenant_is_cannot_verify_not_empty(store: Store, clock: Clock) -> None:
    c1 = customer(C1, SUB1, consented=False)
    outcome = run_sync(store, world(c1, customer(C2, SUB2)), clock)
    statuses = store.statuses(outcome.run_id)
    assert statuses[("graph.subscribed_skus", C1)].error_kind == "auth"
    assert "AADSTS" in (statuses[("graph.subscribed_skus", C1)].error or "")
    assert not [
        o for o in store.current(customers=[C1]) if o.source.startswith("graph.") and o.scope == C1
    ]


def test_malformed_answer_fails_only_its_scope(store: Store, clock: Clock) -> None:
    faults = [{"source": "graph.gdap", "kind": "malformed"}]
    outcome = run_sync(store, world(faults=faults), clock)
    statuses = store.statuses(outcome.run_id)
    assert statuses[("graph.gdap", "partner")].error_kind == "permanent"
    assert statuses[("graph.contracts", "partner")].status == "complete"
    assert outcome.status is RunStatus.PARTIAL


def test_order_puts_partner_sources_first(store: Store, clock: Clock) -> None:
    outcome = run_sync(store, world(), clock)
    with store.read() as s:
        from agent.store.models import SourceStatus

        order = [
            r.source
            for r in s.scalars(
                select(SourceStatus)
                .where(SourceStatus.run_id == outcome.run_id)
                .order_by(SourceStatus.id)
            )
        ]
    partner = {
        Source.PC_CUSTOMERS.value,
        Source.GRAPH_GDAP.value,
        Source.GRAPH_CONTRACTS.value,
        Source.INSIGHTS.value,
        Source.PC_AUDIT.value,
    }
    first_customer = next(i for i, src in enumerate(order) if src not in partner)
    assert set(order[:first_customer]) == partner
