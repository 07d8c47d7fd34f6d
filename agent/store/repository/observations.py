"""Reading what the syncs stored: current observations, their history, what each scope's
current state stands on."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlmodel import col

from agent.store.codec import decode
from agent.store.models import (
    Finding,
    FindingEvent,
    Link,
    Observation,
    ObservationEvent,
    RunStatus,
    ScopeStatus,
    SourceStatus,
    SyncRun,
)
from agent.store.repository.base import StoreBase
from agent.store.repository.tables import SOURCE_STATUS, SYNC_RUN
from connectors.records.record import Record


@dataclass(frozen=True, slots=True)
class CarryBase:
    """The complete read a scope's current observations come from."""

    run_id: int
    started_at: datetime
    records: int


@dataclass(slots=True)
class StoredObservation:
    """A decoded observation with its stamps, for the audit and `explain`."""

    record: Record
    source: str
    scope: str
    first_seen_at: datetime
    last_seen_at: datetime
    removed_at: datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class ObservationsMixin(StoreBase):
    def carry_bases(self, source: str) -> dict[str, CarryBase]:
        """Per scope of ``source``: the complete read its current observations come from, when
        the scope's newest status in a finished run is ``complete`` or ``carried`` (a scope
        whose last read failed has no base: it must be read again)."""
        ss, runs = SOURCE_STATUS.c, SYNC_RUN.c
        finished = (RunStatus.COMPLETE.value, RunStatus.PARTIAL.value)
        latest = (
            select(ss.scope, func.max(ss.run_id).label("run_id"))
            .join(SYNC_RUN, runs.id == ss.run_id)
            .where(ss.source == source, runs.status.in_(finished))
            .group_by(ss.scope)
            .subquery()
        )
        base_id = func.coalesce(ss.as_of_run_id, ss.run_id)
        query = (
            select(ss.scope, base_id, runs.started_at, ss.records)
            .join(latest, (latest.c.scope == ss.scope) & (latest.c.run_id == ss.run_id))
            .join(SYNC_RUN, runs.id == base_id)
            .where(
                ss.source == source,
                ss.status.in_((ScopeStatus.COMPLETE.value, ScopeStatus.CARRIED.value)),
            )
        )
        with self.read() as s:
            return {
                scope: CarryBase(int(run_id), started, int(records or 0))
                for scope, run_id, started, records in s.execute(query)
            }

    def known_customers(self) -> list[str]:
        """Every customer tenant the store has current observations of."""
        with self.read() as s:
            rows = s.scalars(
                select(col(Observation.customer_tenant_id))
                .where(
                    col(Observation.customer_tenant_id).is_not(None),
                    col(Observation.removed_at).is_(None),
                )
                .distinct()
            )
            return sorted(r for r in rows if r)

    def customer_names(self, tenants: Sequence[str] | None = None) -> list[tuple[str, str]]:
        """(tenant id, name) of every customer known by name (of ``tenants`` only, where
        given): the current customer records and the names findings carry (a customer gone
        from Partner Center keeps its findings). The stored JSON is read as it is: no record
        is built for a name."""
        o = Observation.__table__.c  # type: ignore[attr-defined]
        f = Finding.__table__.c  # type: ignore[attr-defined]
        records = select(o.customer_tenant_id, o.payload).where(
            o.kind == "customer", o.removed_at.is_(None)
        )
        named = select(f.customer_tenant_id, f.customer_name).where(f.customer_name.is_not(None))
        pairs: set[tuple[str, str]] = set()
        with self.read() as s:
            for chunk in _chunks(tenants):
                mine = records if chunk is None else records.where(o.customer_tenant_id.in_(chunk))
                for tenant, payload in s.execute(mine):
                    pairs.add((str(tenant), str(json.loads(payload).get("name") or "")))
                theirs = named if chunk is None else named.where(f.customer_tenant_id.in_(chunk))
                pairs |= {(str(t), str(n)) for t, n in s.execute(theirs.distinct()) if t and n}
        return sorted(p for p in pairs if p[1])

    def subscription_names(self, tenants: Sequence[str] | None = None) -> list[tuple[str, str]]:
        """(Azure subscription id, its name) from every current subscription and usage record
        that names one (of ``tenants``' only, where given), oldest first: read from the stored
        JSON, without building the records (a large estate holds tens of thousands)."""
        o = Observation.__table__.c  # type: ignore[attr-defined]
        query = select(o.payload).where(
            o.removed_at.is_(None), o.kind.in_(["azure_subscription", "azure_usage"])
        )
        pairs: list[tuple[str, str]] = []
        with self.read() as s:
            for chunk in _chunks(tenants):
                mine = query if chunk is None else query.where(o.customer_tenant_id.in_(chunk))
                for payload in s.scalars(mine.order_by(o.id)):
                    data = json.loads(payload)
                    sub = data.get("subscription_id") or data.get("resource_id")
                    name = data.get("display_name") or data.get("name")
                    if sub and name:
                        pairs.append((str(sub), str(name)))
        return pairs

    def current(
        self,
        customers: Sequence[str] | None = None,
        kinds: Sequence[str] | None = None,
    ) -> list[StoredObservation]:
        """Observations not marked removed, decoded, for some customers (or all). Read as
        plain rows, not ORM objects: a view of thousands of customers reads hundreds of
        thousands of them."""
        o = Observation.__table__.c  # type: ignore[attr-defined]
        query = select(o.kind, o.payload, o.source, o.scope, o.first_seen_at, o.last_seen_at).where(
            o.removed_at.is_(None)
        )
        if customers is not None:
            query = query.where(o.customer_tenant_id.in_(customers))
        if kinds is not None:
            query = query.where(o.kind.in_(kinds))
        with self.read() as s:
            return [
                StoredObservation(
                    record=decode(kind, payload),
                    source=source,
                    scope=scope,
                    first_seen_at=first,
                    last_seen_at=last,
                )
                for kind, payload, source, scope, first, last in s.execute(query.order_by(o.id))
            ]

    def current_records(
        self,
        kinds: Sequence[str],
        customers: Sequence[str] | None = None,
        *,
        keys: Mapping[str, Sequence[str]] | None = None,
    ) -> dict[str, list[Record]]:
        """Customer tenant -> its current records of ``kinds`` (decoded, nothing else read):
        what a view of many customers needs, without an ORM object per observation. Uses the
        ``ix_observation_kind_current`` index; ``customers`` go in chunks (SQLite's bound
        parameter limit). ``keys`` narrows some kinds to some record keys."""
        out: dict[str, list[Record]] = {}
        table = Observation.__table__  # type: ignore[attr-defined]
        # Some customers' records are looked up by customer (``ix_observation_customer_kind``);
        # the kinds are then a condition no index serves, or SQLite's planner, which has no
        # statistics, would scan every record of the kinds instead (a third of a second for
        # a handful of customers of a large estate). Every customer's: by kind.
        kind = table.c.kind if customers is None else func.coalesce(table.c.kind, "")
        base = select(table.c.customer_tenant_id, table.c.kind, table.c.payload).where(
            table.c.removed_at.is_(None), kind.in_(list(kinds))
        )
        for name, wanted in (keys or {}).items():  # of these kinds, only these keys
            base = base.where(or_(table.c.kind != name, table.c.key.in_(list(wanted))))
        queries = (
            [base]
            if customers is None
            else [
                base.where(table.c.customer_tenant_id.in_(list(customers[i : i + 5000])))
                for i in range(0, len(customers), 5000)
            ]
        )
        with self.read() as s:
            for query in queries:
                for tenant, kind, payload in s.execute(query.order_by(table.c.id)):
                    if tenant:
                        out.setdefault(tenant, []).append(decode(kind, payload))
        return out

    def observation_history(
        self, customer: str, kinds: Sequence[str] | None = None
    ) -> list[tuple[ObservationEvent, Observation]]:
        with self.read() as s:
            query = (
                select(ObservationEvent, Observation)
                .join(Observation, col(Observation.id) == col(ObservationEvent.observation_id))
                .where(col(Observation.customer_tenant_id) == customer)
            )
            if kinds is not None:
                query = query.where(col(Observation.kind).in_(kinds))
            return [(e, o) for e, o in s.execute(query.order_by(col(ObservationEvent.id)))]

    def counts(self) -> dict[str, int]:
        """Rows per table: a cheap health figure for `status` and the metrics."""
        tables = (SyncRun, SourceStatus, Observation, ObservationEvent, Link, Finding, FindingEvent)
        with self.read() as s:
            return {
                t.__tablename__: int(s.scalar(select(func.count()).select_from(t)) or 0)
                for t in tables
            }


def _chunks(tenants: Sequence[str] | None, size: int = 500) -> list[list[str] | None]:
    """``tenants`` in lists short enough for one ``IN`` (SQLite's bound parameter limit);
    ``[None]`` for every tenant."""
    if tenants is None:
        return [None]
    listed = list(tenants)
    return [listed[i : i + size] for i in range(0, len(listed), size)]
