"""The repository: every read and write of the store goes through :class:`Store`.

A complete read of a (source, scope) is loaded in one transaction: new records are added,
changed ones updated, absent ones marked removed (never deleted), each change written to
``observation_event``. A failed read writes its status row and touches nothing else (R1, R14).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, insert, or_, select, update
from sqlmodel import Session

from agent.store.codec import decode, digest, encode
from agent.store.engine import make_engine, migrate
from agent.store.models import (
    ACTIVE_STATUSES,
    Finding,
    FindingEvent,
    FindingStatus,
    Link,
    Observation,
    ObservationEvent,
    RunStatus,
    ScopeStatus,
    SourceStatus,
    SyncRun,
)
from connectors.records import Record


@dataclass(frozen=True, slots=True)
class ScopeResult:
    """The outcome of reading one (source, scope): its records, or why there are none."""

    source: str
    scope: str
    customer_tenant_id: str | None
    kinds: tuple[str, ...]
    status: ScopeStatus
    records: Sequence[Record] = ()
    error_kind: str | None = None
    error: str | None = None


@dataclass(slots=True)
class LoadStats:
    added: int = 0
    changed: int = 0
    removed: int = 0
    restored: int = 0
    unchanged: int = 0

    def merge(self, other: LoadStats) -> None:
        self.added += other.added
        self.changed += other.changed
        self.removed += other.removed
        self.restored += other.restored
        self.unchanged += other.unchanged


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


class Store:
    """The agent's database, SQLite or PostgreSQL."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def open(cls, url: str, *, upgrade: bool = True) -> Store:
        engine = make_engine(url)
        if upgrade:
            migrate(engine)
        return cls(engine)

    def close(self) -> None:
        self.engine.dispose()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A write transaction (``BEGIN IMMEDIATE`` on SQLite); committed on success."""
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only session; under WAL it never waits for a writer."""
        with self.engine.connect() as raw:
            conn = raw.execution_options(readonly=True)
            with Session(bind=conn, expire_on_commit=False) as session:
                yield session
                session.expunge_all()  # hand out detached, fully loaded objects

    # ----------------------------------------------------------------------------- runs

    def start_run(self, now: datetime, trigger: str = "manual") -> int:
        with self.write() as s:
            run = SyncRun(started_at=now, trigger=trigger, status=RunStatus.RUNNING)
            s.add(run)
            s.flush()
            assert run.id is not None
            return run.id

    def finish_run(
        self, run_id: int, status: RunStatus, now: datetime, *, stats: dict[str, Any] | None = None,
        error: str | None = None,
    ) -> None:
        with self.write() as s:
            s.execute(
                update(SyncRun).where(SyncRun.id == run_id).values(  # type: ignore[arg-type]
                    status=status, finished_at=now, stats=json.dumps(stats or {}), error=error
                )
            )

    def mark_audited(
        self, run_id: int, now: datetime, *, coverage: dict[str, Any] | None = None,
        session: Session | None = None,
    ) -> None:
        """Stamp the run as audited, keeping the audit's coverage figures in its stats; in the
        caller's transaction when ``session`` is given."""
        if session is None:
            with self.write() as s:
                self.mark_audited(run_id, now, coverage=coverage, session=s)
            return
        run = session.get(SyncRun, run_id)
        if run is None:
            return
        run.audited_at = now
        if coverage is not None:
            stats = json.loads(run.stats or "{}")
            stats["coverage"] = coverage
            run.stats = json.dumps(stats, sort_keys=True)

    def record_skipped(self, now: datetime, reason: str, trigger: str = "schedule") -> int:
        """A run that did not happen, and why (another agent held the lock, R23)."""
        with self.write() as s:
            run = SyncRun(started_at=now, finished_at=now, trigger=trigger,
                          status=RunStatus.SKIPPED, error=reason)
            s.add(run)
            s.flush()
            assert run.id is not None
            return run.id

    def last_started_run(self) -> SyncRun | None:
        """The newest run that really started (skipped ones excluded)."""
        with self.read() as s:
            return s.scalars(
                select(SyncRun).where(SyncRun.status != RunStatus.SKIPPED)
                .order_by(SyncRun.id.desc()).limit(1)  # type: ignore[union-attr]
            ).first()

    def abandon_interrupted(self, now: datetime) -> list[int]:
        """Runs left ``running`` by a process that died become ``incomplete`` (R12)."""
        with self.write() as s:
            ids = list(s.scalars(select(SyncRun.id).where(SyncRun.status == RunStatus.RUNNING)))
            if ids:
                s.execute(
                    update(SyncRun).where(SyncRun.id.in_(ids)).values(  # type: ignore[union-attr]
                        status=RunStatus.INCOMPLETE, finished_at=now,
                        error="the process stopped before the run finished",
                    )
                )
            return [i for i in ids if i is not None]

    def run(self, run_id: int) -> SyncRun | None:
        with self.read() as s:
            return s.get(SyncRun, run_id)

    def runs(self, limit: int = 50) -> list[SyncRun]:
        with self.read() as s:
            return list(s.scalars(select(SyncRun).order_by(SyncRun.id.desc()).limit(limit)))  # type: ignore[union-attr]

    def last_finished_run(self) -> SyncRun | None:
        """The newest run the audit may evaluate: complete or partial, never incomplete."""
        with self.read() as s:
            return s.scalars(
                select(SyncRun)
                .where(SyncRun.status.in_((RunStatus.COMPLETE, RunStatus.PARTIAL)))  # type: ignore[attr-defined]
                .order_by(SyncRun.id.desc())  # type: ignore[union-attr]
                .limit(1)
            ).first()

    # ----------------------------------------------------------------------------- loading

    def save(self, run_id: int, results: Sequence[ScopeResult], now: datetime) -> LoadStats:
        """Write the outcomes of several (source, scope) reads in ONE transaction (R12)."""
        stats = LoadStats()
        with self.write() as s:
            for result in results:
                if result.status is ScopeStatus.COMPLETE:
                    stats.merge(self._load(s, run_id, result, now))
                s.execute(
                    insert(SourceStatus).values(
                        run_id=run_id,
                        source=result.source,
                        scope=result.scope,
                        customer_tenant_id=result.customer_tenant_id,
                        status=result.status,
                        error_kind=result.error_kind,
                        error=result.error,
                        records=len(result.records),
                        finished_at=now,
                    )
                )
        return stats

    def _load(self, s: Session, run_id: int, result: ScopeResult, now: datetime) -> LoadStats:
        stats = LoadStats()
        existing: dict[tuple[str, str], tuple[int, str, datetime | None]] = {}
        rows = s.execute(
            select(
                Observation.id, Observation.kind, Observation.key, Observation.payload_hash,
                Observation.removed_at,
            ).where(
                Observation.source == result.source,
                Observation.scope == result.scope,
                Observation.kind.in_(result.kinds),  # type: ignore[attr-defined]
            )
        )
        for oid, kind, key, phash, removed in rows:
            existing[(kind, key)] = (oid, phash, removed)

        new_rows: list[dict[str, Any]] = []
        touched: list[dict[str, Any]] = []
        events: list[dict[str, Any]] = []
        seen: set[tuple[str, str]] = set()
        for record in result.records:
            identity = (record.KIND, record.key)
            if identity in seen:  # the same fact twice in one listing: keep the first
                continue
            seen.add(identity)
            payload = encode(record)
            phash = digest(payload)
            found = existing.get(identity)
            if found is None:
                new_rows.append({
                    "kind": record.KIND, "source": result.source, "scope": result.scope,
                    "key": record.key, "customer_tenant_id": record.customer_tenant_id,
                    "payload": payload, "payload_hash": phash, "first_seen_at": now,
                    "last_seen_at": now, "first_run_id": run_id, "last_run_id": run_id,
                })
                continue
            oid, old_hash, removed = found
            row: dict[str, Any] = {"id": oid, "last_seen_at": now, "last_run_id": run_id}
            if removed is not None:
                row.update(removed_at=None, removed_run_id=None, payload=payload,
                           payload_hash=phash)
                events.append({"observation_id": oid, "run_id": run_id, "at": now,
                               "change": "restored", "payload": payload})
                stats.restored += 1
            elif old_hash != phash:
                row.update(payload=payload, payload_hash=phash)
                events.append({"observation_id": oid, "run_id": run_id, "at": now,
                               "change": "changed", "payload": payload})
                stats.changed += 1
            else:
                stats.unchanged += 1
            touched.append(row)

        gone = [
            {"id": oid, "removed_at": now, "removed_run_id": run_id}
            for identity, (oid, _h, removed) in existing.items()
            if removed is None and identity not in seen
        ]
        events.extend(
            {"observation_id": g["id"], "run_id": run_id, "at": now, "change": "removed",
             "payload": None}
            for g in gone
        )
        stats.removed = len(gone)

        if new_rows:
            inserted = s.execute(
                insert(Observation).returning(Observation.id, Observation.payload),  # type: ignore[arg-type]
                new_rows,
            )
            events.extend(
                {"observation_id": oid, "run_id": run_id, "at": now, "change": "added",
                 "payload": payload}
                for oid, payload in inserted
            )
            stats.added = len(new_rows)
        if touched:
            _bulk_update(s, touched)
        if gone:
            _bulk_update(s, gone)
        if events:
            s.execute(insert(ObservationEvent), events)
        return stats

    # ----------------------------------------------------------------------------- reading

    def statuses(self, run_id: int) -> dict[tuple[str, str], SourceStatus]:
        with self.read() as s:
            rows = s.scalars(select(SourceStatus).where(SourceStatus.run_id == run_id))
            return {(r.source, r.scope): r for r in rows}

    def known_customers(self) -> list[str]:
        """Every customer tenant the store has current observations of."""
        with self.read() as s:
            rows = s.scalars(
                select(Observation.customer_tenant_id)
                .where(Observation.customer_tenant_id.is_not(None),  # type: ignore[union-attr]
                       Observation.removed_at.is_(None))  # type: ignore[union-attr]
                .distinct()
            )
            return sorted(r for r in rows if r)

    def current(
        self, customers: Sequence[str] | None = None, kinds: Sequence[str] | None = None,
    ) -> list[StoredObservation]:
        """Observations not marked removed, decoded, for some customers (or all)."""
        query = select(Observation).where(Observation.removed_at.is_(None))  # type: ignore[union-attr]
        if customers is not None:
            query = query.where(Observation.customer_tenant_id.in_(customers))  # type: ignore[union-attr]
        if kinds is not None:
            query = query.where(Observation.kind.in_(kinds))  # type: ignore[attr-defined]
        with self.read() as s:
            return [
                StoredObservation(
                    record=decode(o.kind, o.payload), source=o.source, scope=o.scope,
                    first_seen_at=o.first_seen_at, last_seen_at=o.last_seen_at,
                )
                for o in s.scalars(query.order_by(Observation.id))  # type: ignore[arg-type]
            ]

    def observation_history(self, customer: str, kinds: Sequence[str] | None = None) -> list[
        tuple[ObservationEvent, Observation]
    ]:
        with self.read() as s:
            query = (
                select(ObservationEvent, Observation)
                .join(Observation, Observation.id == ObservationEvent.observation_id)  # type: ignore[arg-type]
                .where(Observation.customer_tenant_id == customer)
            )
            if kinds is not None:
                query = query.where(Observation.kind.in_(kinds))  # type: ignore[attr-defined]
            return [(e, o) for e, o in s.execute(query.order_by(ObservationEvent.id))]  # type: ignore[arg-type]

    def links(self, customers: Sequence[str] | None = None) -> list[Link]:
        with self.read() as s:
            query = select(Link)
            if customers is not None:
                query = query.where(Link.customer_tenant_id.in_(customers))  # type: ignore[attr-defined]
            return list(s.scalars(query.order_by(Link.id)))  # type: ignore[arg-type]

    def findings(
        self, *, statuses: Sequence[str] | None = None, customers: Sequence[str] | None = None,
        rules: Sequence[str] | None = None,
    ) -> list[Finding]:
        with self.read() as s:
            query = select(Finding)
            if statuses is not None:
                query = query.where(Finding.status.in_(statuses))  # type: ignore[attr-defined]
            if customers is not None:
                query = query.where(
                    or_(Finding.customer_tenant_id.in_(customers),  # type: ignore[union-attr]
                        Finding.customer_tenant_id.is_(None))  # type: ignore[union-attr]
                )
            if rules is not None:
                query = query.where(Finding.rule.in_(rules))  # type: ignore[attr-defined]
            return list(s.scalars(query.order_by(Finding.id)))  # type: ignore[arg-type]

    def finding(self, fingerprint: str) -> Finding | None:
        with self.read() as s:
            return s.scalars(
                select(Finding).where(Finding.fingerprint.startswith(fingerprint))  # type: ignore[attr-defined]
            ).first()

    def set_finding_status(
        self, fingerprint: str, status: FindingStatus, now: datetime, *, owner: str | None = None,
        note: str | None = None, until: datetime | None = None,
        allowed_from: frozenset[str] = ACTIVE_STATUSES,
    ) -> Finding:
        """A person's decision on a finding (ack, snooze, unsnooze), kept as an event."""
        with self.write() as s:
            matches = list(s.scalars(
                select(Finding).where(Finding.fingerprint.startswith(fingerprint)).limit(2)  # type: ignore[attr-defined]
            ))
            if not matches:
                raise LookupError(f"no finding with id {fingerprint}")
            if len(matches) > 1:
                raise LookupError(f"{fingerprint} matches more than one finding: give more of it")
            finding = matches[0]
            if finding.status not in allowed_from:
                raise ValueError(f"finding {finding.fingerprint[:12]} is {finding.status}")
            old = finding.status
            finding.status = status
            finding.owner = owner or finding.owner
            finding.note = note or finding.note
            finding.until = until
            s.add(FindingEvent(fingerprint=finding.fingerprint, at=now, from_status=old,
                               to_status=status, note=_decision_note(owner, note, until)))
            return finding

    def finding_events(self, fingerprint: str) -> list[FindingEvent]:
        with self.read() as s:
            return list(s.scalars(
                select(FindingEvent).where(FindingEvent.fingerprint == fingerprint)
                .order_by(FindingEvent.id)  # type: ignore[arg-type]
            ))

    def active_finding_count(self) -> dict[str, int]:
        with self.read() as s:
            rows = s.execute(
                select(Finding.status, func.count())
                .where(Finding.status.in_([str(x) for x in ACTIVE_STATUSES]))  # type: ignore[attr-defined]
                .group_by(Finding.status)
            )
            return {str(status): int(count) for status, count in rows}

    def counts(self) -> dict[str, int]:
        """Rows per table: a cheap health figure for `status` and the metrics."""
        tables = (SyncRun, SourceStatus, Observation, ObservationEvent, Link, Finding, FindingEvent)
        with self.read() as s:
            return {
                t.__tablename__: int(s.scalar(select(func.count()).select_from(t)) or 0)  # type: ignore[arg-type,attr-defined]
                for t in tables
            }


def _decision_note(owner: str | None, note: str | None, until: datetime | None) -> str:
    parts = [f"by {owner}" if owner else "", note or "",
             f"until {until.isoformat()}" if until else ""]
    return "; ".join(p for p in parts if p)


def _bulk_update(s: Session, rows: list[dict[str, Any]]) -> None:
    """ORM bulk UPDATE by primary key, grouped by the set of columns each row changes."""
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[tuple(sorted(row))].append(row)
    for group in groups.values():
        s.execute(update(Observation), group)
