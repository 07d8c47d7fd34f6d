"""The change feed between full syncs: Partner Center's audit records say which customers
changed, so an unchanged customer's scope is carried on its last complete read instead of read
again."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta

from agent.store import CarryBase
from connectors.base import Connector
from connectors.records.customers import AuditEvent
from connectors.records.record import Record
from connectors.records.scope import Source, scope_for
from connectors.source_row import Cadence
from connectors.sources import SOURCES

ON_CHANGE: frozenset[Source] = frozenset(
    row.source for row in SOURCES if row.cadence is Cadence.ON_CHANGE
)
"""The sources a scheduled cycle reads only for customers the change feed names."""


@dataclass(frozen=True, slots=True)
class ChangeFeed:
    """Partner Center's audit records as the change feed between full syncs.

    Partner Center logs every change to a customer and its subscriptions (orders, seat and
    status changes, relationship and association changes) in its audit records, which the sync
    reads anyway. A customer-scoped read of a source in ``sources`` (by default those whose row
    says :attr:`~connectors.source_row.Cadence.ON_CHANGE`) is carried, not repeated, when all of
    these hold:

    - the audit records were read completely in this run, back to ``covers_from``;
    - the scope's newest status is ``complete`` or ``carried``, standing on a complete read
      that started less than ``full_every`` ago (so every scope is read in full at least that
      often: changes Microsoft makes on its own, such as a trial ending, are not all audited);
    - the feed reaches back to ``lag`` before that read, and names the customer in no record
      since then (``lag`` covers records that appear in the feed late).
    """

    full_every: timedelta
    covers_from: datetime
    lag: timedelta = timedelta(hours=24)
    sources: frozenset[Source] = ON_CHANGE

    def usable(self, base: CarryBase, now: datetime) -> bool:
        """Whether the feed can vouch for the scope since ``base`` (changes aside)."""
        return (
            base.started_at > now - self.full_every
            and base.started_at - self.lag >= self.covers_from
        )


class FeedState:
    """What this run's audit-record read said: the newest record naming each customer."""

    def __init__(self, feed: ChangeFeed, bases: dict[str, dict[str, CarryBase]]) -> None:
        self.feed = feed
        self.bases = bases
        """Per source value: scope -> the complete read the scope stands on."""
        self.latest: dict[str, datetime] = {}
        self.complete = False
        self.done = asyncio.Event()

    def notice(self, record: Record) -> None:
        if isinstance(record, AuditEvent) and record.customer_tenant_id:
            tenant = record.customer_tenant_id
            seen = self.latest.get(tenant)
            if seen is None or record.operation_date > seen:
                self.latest[tenant] = record.operation_date

    def base(self, connector: Connector, tenant: str, now: datetime) -> CarryBase | None:
        """The read this scope may stand on without reading it, before the feed is in."""
        if connector.source not in self.feed.sources:
            return None
        base = self.bases.get(connector.source.value, {}).get(scope_for(tenant, connector.identity))
        return base if base is not None and self.feed.usable(base, now) else None

    def unchanged(self, tenant: str, base: CarryBase) -> bool:
        """Once the feed is in: whether it vouches that nothing changed since ``base``."""
        if not self.complete:
            return False
        changed = self.latest.get(tenant)
        return changed is None or changed < base.started_at - self.feed.lag
