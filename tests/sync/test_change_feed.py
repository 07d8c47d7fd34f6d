"""Between full syncs, Partner Center's audit records are the change feed: a customer's Partner
Center subscriptions are read again only when the feed names the customer; the others are
``carried`` on their last complete read, which the audit never takes as new proof of absence."""

from __future__ import annotations

import asyncio
import copy
from datetime import datetime, timedelta
from typing import Any

from agent.store import RunStatus, Store
from agent.sync import ChangeFeed, Syncer, SyncOutcome
from connectors.records.customers import CspSubscription
from connectors.records.scope import ScopeKind, Source
from connectors.source_row import Cadence
from connectors.sources import SOURCES
from standin.fake import FakeWorld
from standin.scenario import parse_scenario
from tests.conftest import Clock
from tests.worlds import C1, C2, SUB1, SUB2, customer, world_dict

SUBS = "partner_center.subscriptions"
WEEK = timedelta(days=7)


def feed_for(clock: Clock, *, full_every: timedelta = WEEK, lookback_days: int = 30) -> ChangeFeed:
    """The feed over the CSP subscriptions alone: the tests below follow that one source."""
    return ChangeFeed(
        full_every=full_every,
        covers_from=clock() - timedelta(days=lookback_days),
        sources=frozenset({Source.PC_SUBSCRIPTIONS}),
    )


def scenario(
    clock: Clock,
    *,
    quantity: int = 10,
    events: list[dict[str, Any]] | None = None,
    faults: list[dict[str, Any]] | None = None,
) -> FakeWorld:
    doc = world_dict(customer(C1, SUB1), customer(C2, SUB2), faults=faults)
    for c in doc["customers"]:
        c["csp_subscriptions"][0]["quantity"] = quantity
    doc["audit_events"] = copy.deepcopy(events or [])
    return FakeWorld(parse_scenario(doc, now=clock()), clock=clock)


def event(tenant: str, at: datetime, operation: str = "update_subscription") -> dict[str, Any]:
    return {
        "id": f"ae-{tenant[:2]}-{at:%H%M%S}",
        "operation_type": operation,
        "resource_type": "subscription",
        "customer_tenant_id": tenant,
        "date": at.isoformat(),
    }


def sync(store: Store, fake: FakeWorld, clock: Clock, feed: ChangeFeed | None) -> SyncOutcome:
    return asyncio.run(Syncer(store, fake.connectors(), clock=clock, feed=feed).run())


def quantities(store: Store) -> dict[str, int | None]:
    return {
        o.record.customer_tenant_id or "": o.record.quantity
        for o in store.current(kinds=[CspSubscription.KIND])
        if isinstance(o.record, CspSubscription)
    }


def subs_status(store: Store, run_id: int) -> dict[str, tuple[str, int | None, int]]:
    return {
        row.scope: (row.status, row.as_of_run_id, row.records)
        for (source, _scope), row in store.statuses(run_id).items()
        if source == SUBS
    }


def test_only_customers_the_feed_names_are_read_again(store: Store, clock: Clock) -> None:
    first = sync(store, scenario(clock), clock, feed_for(clock))
    assert first.carried == 0, "nothing to stand on yet: every scope is read"
    clock.advance(days=1)
    # Both customers' seats change; the audit records name only C1 (C2's change, made by
    # Microsoft on its own, is not audited).
    changed = scenario(clock, quantity=25, events=[event(C1, clock() - timedelta(hours=1))])
    second = sync(store, changed, clock, feed_for(clock))
    assert second.status is RunStatus.COMPLETE
    assert second.carried == 1
    assert subs_status(store, second.run_id) == {
        C1: ("complete", None, 1),
        C2: ("carried", first.run_id, 1),
    }
    assert quantities(store) == {C1: 25, C2: 10}, "C2 stands on its last complete read"
    # A week after C2's last complete read, it is read in full again.
    clock.advance(days=6, hours=1)
    third = sync(store, changed, clock, feed_for(clock))
    assert third.carried == 0
    assert quantities(store) == {C1: 25, C2: 25}


def test_a_carried_scope_stands_on_the_read_it_was_carried_from(store: Store, clock: Clock) -> None:
    first = sync(store, scenario(clock), clock, feed_for(clock))
    for _ in range(3):
        clock.advance(days=1)
        outcome = sync(store, scenario(clock), clock, feed_for(clock))
        assert subs_status(store, outcome.run_id) == {
            C1: ("carried", first.run_id, 1),
            C2: ("carried", first.run_id, 1),
        }
    # Seven days and an hour after the complete read: the base is too old, read again.
    clock.advance(days=4, hours=1)
    outcome = sync(store, scenario(clock), clock, feed_for(clock))
    assert {s for s, _base, _n in subs_status(store, outcome.run_id).values()} == {"complete"}


def test_records_from_before_the_last_read_do_not_force_a_read(store: Store, clock: Clock) -> None:
    read_at = clock()
    sync(store, scenario(clock), clock, feed_for(clock))
    clock.advance(days=2)
    old = [event(C1, read_at - timedelta(days=3)), event(C2, read_at - timedelta(hours=2))]
    outcome = sync(store, scenario(clock, events=old), clock, feed_for(clock))
    # C1's record is older than the read less the feed's lag; C2's falls inside the lag.
    assert subs_status(store, outcome.run_id)[C1][0] == "carried"
    assert subs_status(store, outcome.run_id)[C2][0] == "complete"


def test_without_a_complete_feed_everything_is_read(store: Store, clock: Clock) -> None:
    sync(store, scenario(clock), clock, feed_for(clock))
    clock.advance(days=1)
    broken = scenario(
        clock,
        quantity=25,
        faults=[{"source": "partner_center.audit_records", "scope": "partner", "status": 500}],
    )
    outcome = sync(store, broken, clock, feed_for(clock))
    assert outcome.status is RunStatus.PARTIAL  # the audit records failed
    assert outcome.carried == 0
    assert quantities(store) == {C1: 25, C2: 25}


def test_a_feed_that_does_not_reach_back_far_enough_is_not_used(store: Store, clock: Clock) -> None:
    sync(store, scenario(clock), clock, feed_for(clock))
    clock.advance(days=3)
    # Two days of audit records cannot vouch for a read three days ago.
    outcome = sync(store, scenario(clock, quantity=25), clock, feed_for(clock, lookback_days=2))
    assert outcome.carried == 0
    assert quantities(store) == {C1: 25, C2: 25}


def test_a_scope_whose_last_read_failed_is_read_again(store: Store, clock: Clock) -> None:
    sync(store, scenario(clock), clock, feed_for(clock))
    clock.advance(days=1)
    failing = scenario(clock, faults=[{"source": SUBS, "scope": C1, "status": 403}])
    failed = sync(store, failing, clock, feed_for(clock))
    assert subs_status(store, failed.run_id)[C1][0] == "carried", (
        "carried: the feed vouches for C1, so its failing endpoint is not even called"
    )
    clock.advance(days=1)
    forced = sync(store, failing, clock, None)
    assert subs_status(store, forced.run_id)[C1][0] == "failed"
    clock.advance(days=1)
    outcome = sync(store, scenario(clock, quantity=25), clock, feed_for(clock))
    assert subs_status(store, outcome.run_id) == {
        C1: ("complete", None, 1),
        C2: ("carried", forced.run_id, 1),
    }
    assert quantities(store) == {C1: 25, C2: 10}


def test_full_every_zero_or_no_feed_reads_everything(store: Store, clock: Clock) -> None:
    sync(store, scenario(clock), clock, feed_for(clock))
    clock.advance(days=1)
    assert sync(store, scenario(clock), clock, None).carried == 0
    clock.advance(days=1)
    assert (
        sync(store, scenario(clock), clock, feed_for(clock, full_every=timedelta(0))).carried == 0
    )


def test_a_scheduled_cycle_reads_every_alerted_link_and_carries_the_rest(
    store: Store, clock: Clock
) -> None:
    """The default feed follows each source's cadence: for a customer the feed does not name,
    every customer source whose links' loss is alerted (GDAP, PAL and the identities it rides
    on) is read again, and only the ``on_change`` sources are carried."""
    default = ChangeFeed(full_every=WEEK, covers_from=clock() - timedelta(days=30))
    first = sync(store, scenario(clock), clock, default)
    clock.advance(days=1)
    changed = scenario(clock, events=[event(C1, clock() - timedelta(hours=1))])
    second = sync(store, changed, clock, default)
    statuses = {
        (source, row.customer_tenant_id): row.status
        for (source, _scope), row in store.statuses(second.run_id).items()
        if row.customer_tenant_id
    }
    checked: set[str] = set()
    for row in SOURCES:
        if row.scope_kind is not ScopeKind.CUSTOMER:
            continue
        for tenant in (C1, C2):
            found = {s for (source, t), s in statuses.items() if source == row.name and t == tenant}
            if not found:
                continue  # the source does not apply to this customer
            carried = row.cadence is Cadence.ON_CHANGE and tenant == C2
            assert found == {"carried" if carried else "complete"}, (row.name, tenant)
            checked.add(row.cadence)
    assert checked == {Cadence.EVERY_CYCLE, Cadence.ON_CHANGE}
    assert {r.source for r in SOURCES if r.cadence is Cadence.EVERY_CYCLE} >= {
        Source.PC_CUSTOMERS,
        Source.GRAPH_GDAP,
        Source.ARM_PAL,
        Source.GRAPH_IDENTITIES,
        Source.INSIGHTS,
        Source.PC_AUDIT,
    }, "a link whose disappearance is alerted is read in every cycle"
    assert first.carried == 0 and second.carried > 0
