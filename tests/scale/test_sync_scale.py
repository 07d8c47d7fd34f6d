"""The sync at scale: partner and customer reads overlap, long listings are spooled, and a sync
of a generated estate is complete and idempotent."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import select

from agent.store import RunStatus, Store
from agent.store.models import SourceStatus
from agent.sync import RecordSpool, Syncer
from connectors.base import PARTNER_APP, Connector
from connectors.records.record import Record
from connectors.records.scope import Source
from standin.fake import FakeWorld
from standin.scenario.generate import GENERATED_CARRIER
from tests.conftest import Clock
from tests.scale.support import carrier_applies, estate, fake_sync


class _Gated:
    """A connector that holds its listing back until ``gate`` opens."""

    def __init__(self, inner: Connector, gate: asyncio.Event) -> None:
        self.inner = inner
        self.gate = gate
        self.source = inner.source
        self.scope_kind = inner.scope_kind
        self.kinds = inner.kinds
        self.identity = inner.identity
        self.requires = getattr(inner, "requires", None)

    async def fetch(self, customer_tenant_id: str | None) -> AsyncIterator[Record]:
        await self.gate.wait()
        async for record in self.inner.fetch(customer_tenant_id):
            yield record


class _Counting:
    """A customer connector that opens ``gate`` once it has read ``after`` customers."""

    def __init__(self, inner: Connector, gate: asyncio.Event, after: int) -> None:
        self.inner = inner
        self.gate = gate
        self.after = after
        self.reads = 0
        self.source = inner.source
        self.scope_kind = inner.scope_kind
        self.kinds = inner.kinds
        self.identity = inner.identity
        self.requires = getattr(inner, "requires", None)

    async def fetch(self, customer_tenant_id: str | None) -> AsyncIterator[Record]:
        async for record in self.inner.fetch(customer_tenant_id):
            yield record
        self.reads += 1
        if self.reads >= self.after:
            self.gate.set()


def test_customers_are_read_while_a_long_partner_listing_is_still_going(
    store: Store, clock: Clock
) -> None:
    """The GDAP listing (the floor-setting read of a large estate) does not hold the customers
    back: here it cannot even finish before 20 customers have been read."""
    document, scenario = estate(40)
    world = FakeWorld(scenario, clock=clock)

    async def run() -> Any:
        gate = asyncio.Event()
        connectors: list[Any] = []
        for c in world.connectors((PARTNER_APP, GENERATED_CARRIER)):
            if c.source is Source.GRAPH_GDAP:
                connectors.append(_Gated(c, gate))
            elif c.source is Source.GRAPH_SKUS:
                connectors.append(_Counting(c, gate, after=20))
            else:
                connectors.append(c)
        syncer = Syncer(
            store, connectors, clock=clock, applies=carrier_applies(document), concurrency=4
        )
        return await asyncio.wait_for(syncer.run(), timeout=30)

    outcome = asyncio.run(run())
    assert outcome.status in (RunStatus.COMPLETE, RunStatus.PARTIAL)
    statuses = store.statuses(outcome.run_id)
    assert statuses[("graph.gdap", "partner")].status == "complete"
    with store.read() as s:
        order = [
            r.source
            for r in s.scalars(
                select(SourceStatus)
                .where(SourceStatus.run_id == outcome.run_id)
                .order_by(SourceStatus.id)
            )
        ]
    assert order[0] in {c.source.value for c in world.connectors() if c.scope_kind == "partner"}


def test_a_generated_estate_syncs_and_resyncs_without_changes(store: Store, clock: Clock) -> None:
    document, scenario = estate(120)
    first = fake_sync(
        store, document, scenario, clock, concurrency=16, batch_scopes=50, spool_after=100
    )
    assert first.status is RunStatus.PARTIAL  # 1% never consented: their reads fail (auth)
    assert {f.error_kind for f in first.failed} == {"auth"}
    assert first.customers == 120
    assert first.load.added > 1000
    clock.advance(days=1)
    second = fake_sync(
        store, document, scenario, clock, concurrency=16, batch_scopes=50, spool_after=100
    )
    assert (second.load.added, second.load.changed, second.load.removed) == (0, 0, 0)
    assert second.scopes == first.scopes


def test_a_spool_gives_back_every_record_in_order() -> None:
    _document, scenario = estate(30)
    world = FakeWorld(scenario)
    gdap = next(c for c in world.connectors() if c.source is Source.GRAPH_GDAP)

    async def read() -> list[Record]:
        return [r async for r in gdap.fetch(None)]

    records = asyncio.run(read())
    spool = RecordSpool(batch=7)
    spool.extend(records)
    assert len(spool) == len(records)
    assert list(spool) == records
    assert list(spool) == records  # iterable again
    spool.close()
