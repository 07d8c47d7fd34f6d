"""The repository: every read and write of the store goes through :class:`Store`.

A complete read of a (source, scope) is loaded in one transaction: new records are added,
changed ones updated, absent ones marked removed (never deleted), each change written to
``observation_event``. A failed read writes its status row and touches nothing else (R1, R14).
Loads are set-based (``INSERT ... ON CONFLICT``, chunked under SQLite's bound-parameter limit),
so many customers go in one transaction and a long listing streams through in chunks (R25).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any, TypeVar, cast

from sqlalchemy import (
    Connection,
    Dialect,
    Engine,
    String,
    Table,
    Text,
    bindparam,
    column,
    func,
    null,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.types import TypeDecorator
from sqlmodel import Session, col

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
    records: Iterable[Record] = ()
    """A list, or anything iterable once (a spool of a long listing kept on disk)."""
    error_kind: str | None = None
    error: str | None = None
    as_of_run_id: int | None = None
    """For a ``carried`` scope: the run whose complete read it stands on..."""
    carried_records: int = 0
    """...and the number of records that read had."""


@dataclass(frozen=True, slots=True)
class CarryBase:
    """The complete read a scope's current observations come from."""

    run_id: int
    started_at: datetime
    records: int


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
        self,
        run_id: int,
        status: RunStatus,
        now: datetime,
        *,
        stats: dict[str, Any] | None = None,
        error: str | None = None,
    ) -> None:
        with self.write() as s:
            s.execute(
                update(SyncRun)
                .where(col(SyncRun.id) == run_id)
                .values(status=status, finished_at=now, stats=json.dumps(stats or {}), error=error)
            )

    def mark_audited(
        self,
        run_id: int,
        now: datetime,
        *,
        coverage: dict[str, Any] | None = None,
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
            run = SyncRun(
                started_at=now,
                finished_at=now,
                trigger=trigger,
                status=RunStatus.SKIPPED,
                error=reason,
            )
            s.add(run)
            s.flush()
            assert run.id is not None
            return run.id

    def last_started_run(self) -> SyncRun | None:
        """The newest run that really started (skipped ones excluded)."""
        with self.read() as s:
            return s.scalars(
                select(SyncRun)
                .where(col(SyncRun.status) != RunStatus.SKIPPED)
                .order_by(col(SyncRun.id).desc())
                .limit(1)
            ).first()

    def abandon_interrupted(self, now: datetime) -> list[int]:
        """Runs left ``running`` by a process that died become ``incomplete`` (R12)."""
        with self.write() as s:
            ids = list(
                s.scalars(select(col(SyncRun.id)).where(col(SyncRun.status) == RunStatus.RUNNING))
            )
            if ids:
                s.execute(
                    update(SyncRun)
                    .where(col(SyncRun.id).in_(ids))
                    .values(
                        status=RunStatus.INCOMPLETE,
                        finished_at=now,
                        error="the process stopped before the run finished",
                    )
                )
            return [i for i in ids if i is not None]

    def run(self, run_id: int) -> SyncRun | None:
        with self.read() as s:
            return s.get(SyncRun, run_id)

    def runs(self, limit: int = 50) -> list[SyncRun]:
        with self.read() as s:
            return list(s.scalars(select(SyncRun).order_by(col(SyncRun.id).desc()).limit(limit)))

    def last_finished_run(self) -> SyncRun | None:
        """The newest run the audit may evaluate: complete or partial, never incomplete."""
        with self.read() as s:
            return s.scalars(
                select(SyncRun)
                .where(col(SyncRun.status).in_((RunStatus.COMPLETE, RunStatus.PARTIAL)))
                .order_by(col(SyncRun.id).desc())
                .limit(1)
            ).first()

    # ----------------------------------------------------------------------------- loading

    def open_scopes(self, run_id: int, results: Sequence[ScopeResult], now: datetime) -> None:
        """Record that reads of these scopes have started (status ``running``).

        A long partner read (thousands of GDAP relationships) finishes after many customers
        are stored; its status row is opened when it starts, so a run's rows still list its
        reads in the order they began, and a run that dies mid-read shows what was open.
        :meth:`save` closes the row.
        """
        stamp = self._bulk.timestamp(now)
        rows = [_status_row(run_id, r, 0, stamp, status=SCOPE_RUNNING) for r in results]
        if not rows:
            return
        with self.write() as s:
            self._bulk.statuses_opened.run(s.connection(), rows)

    def save(self, run_id: int, results: Sequence[ScopeResult], now: datetime) -> LoadStats:
        """Write the outcomes of several (source, scope) reads in ONE transaction (R12).

        Set-based and chunked, so a batch of many customers costs a handful of statements and
        a listing of any length streams through in :data:`CHUNK_ROWS` pieces: for each chunk,
        one lookup of the stored versions, one ``INSERT ... ON CONFLICT DO UPDATE`` of what is
        new or changed, one ``UPDATE`` stamping what is unchanged, one insert of the events;
        then one ``UPDATE`` per source marks what a complete read no longer lists (R14). Every
        statement stays under SQLite's 32,766 bound parameters.
        """
        stats = LoadStats()
        with self.write() as s:
            counts = self._load(s, run_id, results, now, stats)
            stamp = self._bulk.timestamp(now)
            rows = [
                _status_row(run_id, r, counts.get(i, r.carried_records), stamp)
                for i, r in enumerate(results)
            ]
            self._bulk.statuses.run(s.connection(), rows)
        return stats

    @cached_property
    def _bulk(self) -> _BulkStatements:
        return _BulkStatements(self.engine.dialect)

    def _load(
        self,
        s: Session,
        run_id: int,
        results: Sequence[ScopeResult],
        now: datetime,
        stats: LoadStats,
    ) -> dict[int, int]:
        """Load every complete result; the number of records each one had, by index."""
        counts: dict[int, int] = {}
        complete = [(i, r) for i, r in enumerate(results) if r.status is ScopeStatus.COMPLETE]
        if not complete:
            return counts

        def stream() -> Iterator[tuple[ScopeResult, Record]]:
            for index, result in complete:
                n = 0
                for record in result.records:
                    n += 1
                    yield result, record
                counts[index] = n

        pending: list[tuple[ScopeResult, Record]] = []
        for item in stream():
            pending.append(item)
            if len(pending) >= CHUNK_ROWS:
                self._load_chunk(s, run_id, pending, now, stats)
                pending = []
        if pending:
            self._load_chunk(s, run_id, pending, now, stats)
        self._mark_removed(s, run_id, [r for _i, r in complete], now, stats)
        return counts

    def _load_chunk(
        self,
        s: Session,
        run_id: int,
        items: list[tuple[ScopeResult, Record]],
        now: datetime,
        stats: LoadStats,
    ) -> None:
        # The same fact twice in one listing: the first one counts.
        fresh: dict[tuple[str, str, str, str], tuple[Record, str, str]] = {}
        for result, record in items:
            identity = (result.source, result.scope, record.KIND, record.key)
            if identity not in fresh:
                payload = encode(record)
                fresh[identity] = (record, payload, digest(payload))
        existing = self._stored(s, list(fresh))

        bulk = self._bulk
        stamp = bulk.timestamp(now)
        upserts: list[tuple[Any, ...]] = []
        touched: list[int] = []
        events: list[dict[str, Any]] = []
        for identity, (record, payload, phash) in fresh.items():
            found = existing.get(identity)
            if found is None:
                stats.added += 1
            else:
                oid, old_hash, removed, last_run = found
                if last_run == run_id:  # already loaded from an earlier chunk of this read
                    continue
                if removed is None and old_hash == phash:
                    stats.unchanged += 1
                    touched.append(oid)
                    continue
                change = "restored" if removed is not None else "changed"
                if change == "restored":
                    stats.restored += 1
                else:
                    stats.changed += 1
                events.append(
                    {
                        "observation_id": oid,
                        "run_id": run_id,
                        "at": now,
                        "change": change,
                        "payload": payload,
                    }
                )
            source, scope, kind, key = identity
            upserts.append(
                (
                    kind,
                    source,
                    scope,
                    key,
                    record.customer_tenant_id,
                    payload,
                    phash,
                    stamp,
                    stamp,
                    run_id,
                    run_id,
                )
            )

        added: dict[tuple[str, str, str, str], str] = {
            identity: payload
            for identity, (_r, payload, _h) in fresh.items()
            if identity not in existing
        }
        conn = s.connection()
        for oid, source, scope, kind, key in bulk.observations.run(conn, upserts):
            new_payload = added.get((source, scope, kind, key))
            if new_payload is not None:
                events.append(
                    {
                        "observation_id": oid,
                        "run_id": run_id,
                        "at": now,
                        "change": "added",
                        "payload": new_payload,
                    }
                )
        for ids in _chunks(touched, MAX_BOUND_PARAMETERS - 10):
            conn.execute(
                update(_OBSERVATION)
                .where(_OBSERVATION.c.id.in_(ids))
                .values(last_seen_at=now, last_run_id=run_id)
            )
        self._events(s, events, now)

    def _stored(
        self, s: Session, identities: list[tuple[str, str, str, str]]
    ) -> dict[tuple[str, str, str, str], tuple[int, str, datetime | None, int]]:
        """The stored (id, hash, removed_at, last_run_id) of each identity that exists.

        A join against a ``VALUES`` list probes the unique index once per identity; a
        row-value ``IN`` would scan the whole index on SQLite."""
        found: dict[tuple[str, str, str, str], tuple[int, str, datetime | None, int]] = {}
        conn = s.connection()
        postgres = self.dialect == "postgresql"
        for chunk in _chunks(identities, _rows_per_statement(4)):
            # Only placeholders are spliced in; every value is bound.
            wanted = (
                "SELECT * FROM json_to_recordset(%s) AS j(source text, scope text, "
                "kind text, key text)"
                if postgres
                else "VALUES " + ", ".join(["(?, ?, ?, ?)"] * len(chunk))
            )
            query = (
                "WITH v(source, scope, kind, key) AS (" + wanted + ") "  # noqa: S608
                "SELECT o.id, o.source, o.scope, o.kind, o.key, o.payload_hash, "
                "o.removed_at, o.last_run_id FROM v JOIN observation o ON o.source = v.source "
                "AND o.scope = v.scope AND o.kind = v.kind AND o.key = v.key"
            )
            params: tuple[Any, ...] = (
                (
                    json.dumps(
                        [{"source": a, "scope": b, "kind": c, "key": d} for a, b, c, d in chunk],
                        separators=(",", ":"),
                    ),
                )
                if postgres
                else tuple(value for identity in chunk for value in identity)
            )
            for oid, source, scope, kind, key, phash, removed, last_run in conn.exec_driver_sql(
                query, params
            ):
                found[(source, scope, kind, key)] = (oid, phash, removed, last_run)
        return found

    def _mark_removed(
        self,
        s: Session,
        run_id: int,
        results: list[ScopeResult],
        now: datetime,
        stats: LoadStats,
    ) -> None:
        """R14: what a complete read of its scope did not list is marked removed, never
        deleted; one statement per source and kinds, whatever the number of scopes."""
        groups: dict[tuple[str, tuple[str, ...]], list[str]] = defaultdict(list)
        for result in results:
            groups[(result.source, tuple(result.kinds))].append(result.scope)
        events: list[dict[str, Any]] = []
        for (source, kinds), scopes in groups.items():
            if not kinds:
                continue
            for chunk in _chunks(scopes, MAX_BOUND_PARAMETERS - len(kinds) - 10):
                gone = s.connection().execute(
                    update(_OBSERVATION)
                    .where(
                        _OBSERVATION.c.source == source,
                        _OBSERVATION.c.scope.in_(chunk),
                        _OBSERVATION.c.kind.in_(kinds),
                        _OBSERVATION.c.removed_at.is_(None),
                        _OBSERVATION.c.last_run_id != run_id,
                    )
                    .values(removed_at=now, removed_run_id=run_id)
                    .returning(_OBSERVATION.c.id)
                )
                events.extend(
                    {
                        "observation_id": oid,
                        "run_id": run_id,
                        "at": now,
                        "change": "removed",
                        "payload": None,
                    }
                    for (oid,) in gone
                )
        stats.removed += len(events)
        self._events(s, sorted(events, key=lambda e: e["observation_id"]), now)

    def _events(self, s: Session, events: list[dict[str, Any]], now: datetime) -> None:
        if not events:
            return
        stamp = self._bulk.timestamp(now)
        self._bulk.events.run(
            s.connection(),
            [(e["observation_id"], e["run_id"], stamp, e["change"], e["payload"]) for e in events],
        )

    # ----------------------------------------------------------------------------- reading

    def statuses(self, run_id: int) -> dict[tuple[str, str], SourceStatus]:
        with self.read() as s:
            rows = s.scalars(select(SourceStatus).where(col(SourceStatus.run_id) == run_id))
            return {(r.source, r.scope): r for r in rows}

    def carry_bases(self, source: str) -> dict[str, CarryBase]:
        """Per scope of ``source``: the complete read its current observations come from, when
        the scope's newest status in a finished run is ``complete`` or ``carried`` (a scope
        whose last read failed has no base: it must be read again)."""
        ss, runs = _STATUS.c, _SYNC_RUN.c
        finished = (RunStatus.COMPLETE.value, RunStatus.PARTIAL.value)
        latest = (
            select(ss.scope, func.max(ss.run_id).label("run_id"))
            .join(_SYNC_RUN, runs.id == ss.run_id)
            .where(ss.source == source, runs.status.in_(finished))
            .group_by(ss.scope)
            .subquery()
        )
        base_id = func.coalesce(ss.as_of_run_id, ss.run_id)
        query = (
            select(ss.scope, base_id, runs.started_at, ss.records)
            .join(latest, (latest.c.scope == ss.scope) & (latest.c.run_id == ss.run_id))
            .join(_SYNC_RUN, runs.id == base_id)
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

    def customer_names(self) -> list[tuple[str, str]]:
        """(tenant id, name) of every customer known by name: the current customer records
        and the names findings carry (a customer gone from Partner Center keeps its findings)."""
        pairs: set[tuple[str, str]] = set()
        with self.read() as s:
            payloads = s.scalars(
                select(col(Observation.payload)).where(
                    col(Observation.kind) == "customer", col(Observation.removed_at).is_(None)
                )
            )
            for payload in payloads:
                record = decode("customer", payload)
                pairs.add((str(record.customer_tenant_id), str(getattr(record, "name", ""))))
            named = s.execute(
                select(col(Finding.customer_tenant_id), col(Finding.customer_name))
                .where(col(Finding.customer_name).is_not(None))
                .distinct()
            )
            pairs |= {(str(t), str(n)) for t, n in named if t and n}
        return sorted(p for p in pairs if p[1])

    def current(
        self,
        customers: Sequence[str] | None = None,
        kinds: Sequence[str] | None = None,
    ) -> list[StoredObservation]:
        """Observations not marked removed, decoded, for some customers (or all)."""
        query = select(Observation).where(col(Observation.removed_at).is_(None))
        if customers is not None:
            query = query.where(col(Observation.customer_tenant_id).in_(customers))
        if kinds is not None:
            query = query.where(col(Observation.kind).in_(kinds))
        with self.read() as s:
            return [
                StoredObservation(
                    record=decode(o.kind, o.payload),
                    source=o.source,
                    scope=o.scope,
                    first_seen_at=o.first_seen_at,
                    last_seen_at=o.last_seen_at,
                )
                for o in s.scalars(query.order_by(col(Observation.id)))
            ]

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

    def links(self, customers: Sequence[str] | None = None) -> list[Link]:
        with self.read() as s:
            query = select(Link)
            if customers is not None:
                query = query.where(col(Link.customer_tenant_id).in_(customers))
            return list(s.scalars(query.order_by(col(Link.id))))

    def findings(
        self,
        *,
        statuses: Sequence[str] | None = None,
        customers: Sequence[str] | None = None,
        rules: Sequence[str] | None = None,
    ) -> list[Finding]:
        with self.read() as s:
            query = select(Finding)
            if statuses is not None:
                query = query.where(col(Finding.status).in_(statuses))
            if customers is not None:
                query = query.where(
                    or_(
                        col(Finding.customer_tenant_id).in_(customers),
                        col(Finding.customer_tenant_id).is_(None),
                    )
                )
            if rules is not None:
                query = query.where(col(Finding.rule).in_(rules))
            return list(s.scalars(query.order_by(col(Finding.id))))

    def finding(self, fingerprint: str) -> Finding | None:
        """The one finding whose id starts with ``fingerprint``; None if there is none,
        :class:`AmbiguousFinding` if there are several."""
        with self.read() as s:
            return _one_finding(s, fingerprint, required=False)

    def set_finding_status(
        self,
        fingerprint: str,
        status: FindingStatus,
        now: datetime,
        *,
        owner: str | None = None,
        note: str | None = None,
        until: datetime | None = None,
        allowed_from: frozenset[str] = ACTIVE_STATUSES,
    ) -> Finding:
        """A person's decision on a finding (ack, snooze, unsnooze), kept as an event."""
        with self.write() as s:
            finding = _one_finding(s, fingerprint, required=True)
            assert finding is not None
            if finding.status not in allowed_from:
                raise ValueError(f"finding {finding.fingerprint[:12]} is {finding.status}")
            old = finding.status
            finding.status = status
            finding.owner = owner or finding.owner
            finding.note = note or finding.note
            finding.until = until
            s.add(
                FindingEvent(
                    fingerprint=finding.fingerprint,
                    at=now,
                    from_status=old,
                    to_status=status,
                    note=_decision_note(owner, note, until),
                )
            )
            return finding

    def finding_events(self, fingerprint: str) -> list[FindingEvent]:
        with self.read() as s:
            return list(
                s.scalars(
                    select(FindingEvent)
                    .where(col(FindingEvent.fingerprint) == fingerprint)
                    .order_by(col(FindingEvent.id))
                )
            )

    def active_finding_count(self) -> dict[str, int]:
        with self.read() as s:
            rows = s.execute(
                select(col(Finding.status), func.count())
                .where(col(Finding.status).in_([str(x) for x in ACTIVE_STATUSES]))
                .group_by(col(Finding.status))
            )
            return {str(status): int(count) for status, count in rows}

    def counts(self) -> dict[str, int]:
        """Rows per table: a cheap health figure for `status` and the metrics."""
        tables = (SyncRun, SourceStatus, Observation, ObservationEvent, Link, Finding, FindingEvent)
        with self.read() as s:
            return {
                t.__tablename__: int(s.scalar(select(func.count()).select_from(t)) or 0)
                for t in tables
            }


class AmbiguousFinding(LookupError):
    """A finding id prefix that more than one finding starts with."""

    def __init__(self, prefix: str, candidates: Sequence[Finding], more: bool) -> None:
        super().__init__(prefix)
        self.prefix = prefix
        # Read now: a rolled-back session leaves the rows unreadable once this is raised.
        self.candidates = [(f.fingerprint, f.title) for f in candidates]
        self.more = more

    def __str__(self) -> str:
        shown = "; ".join(f"{fingerprint[:12]} {title}" for fingerprint, title in self.candidates)
        rest = ", and more" if self.more else ""
        return f"{self.prefix} matches more than one finding ({shown}{rest}): give more of it"


AMBIGUITY_SHOWN = 10
"""Candidates an ambiguous id prefix lists."""


def _one_finding(s: Session, prefix: str, *, required: bool) -> Finding | None:
    """The finding whose id starts with ``prefix``, compared literally: ``%`` and ``_`` are
    characters here, not LIKE wildcards, on SQLite and PostgreSQL alike."""
    prefix = prefix.strip().lower()
    if not prefix:
        raise LookupError("no finding id given")
    head = func.substr(col(Finding.fingerprint), 1, len(prefix))
    matches = list(
        s.scalars(
            select(Finding)
            .where(head == prefix)
            .order_by(col(Finding.fingerprint))
            .limit(AMBIGUITY_SHOWN + 1)
        )
    )
    if len(matches) > 1:
        raise AmbiguousFinding(
            prefix, matches[:AMBIGUITY_SHOWN], more=len(matches) > AMBIGUITY_SHOWN
        )
    if not matches and required:
        raise LookupError(f"no finding with id {prefix}")
    return matches[0] if matches else None


def _decision_note(owner: str | None, note: str | None, until: datetime | None) -> str:
    parts = [
        f"by {owner}" if owner else "",
        note or "",
        f"until {until.isoformat()}" if until else "",
    ]
    return "; ".join(p for p in parts if p)


MAX_BOUND_PARAMETERS = 32_766
"""SQLite's limit on bound parameters in one statement (SQLITE_MAX_VARIABLE_NUMBER since
3.32); PostgreSQL allows 65,535, so the smaller one bounds every statement."""

CHUNK_ROWS = 500
"""Records per chunk of a load: one lookup, one upsert, one stamp, one events insert."""

SCOPE_RUNNING = "running"
"""A status row's value while its read is under way (see :meth:`Store.open_scopes`)."""

_OBSERVATION_COLUMNS = (
    "kind",
    "source",
    "scope",
    "key",
    "customer_tenant_id",
    "payload",
    "payload_hash",
    "first_seen_at",
    "last_seen_at",
    "first_run_id",
    "last_run_id",
)
_STATUS_COLUMNS = (
    "run_id",
    "source",
    "scope",
    "customer_tenant_id",
    "status",
    "error_kind",
    "error",
    "records",
    "finished_at",
    "as_of_run_id",
)

_OBSERVATION = cast(Table, Observation.__table__)  # type: ignore[attr-defined]
_EVENT = cast(Table, ObservationEvent.__table__)  # type: ignore[attr-defined]
_STATUS = cast(Table, SourceStatus.__table__)  # type: ignore[attr-defined]
_SYNC_RUN = cast(Table, SyncRun.__table__)  # type: ignore[attr-defined]
_EVENT_COLUMNS = ("observation_id", "run_id", "at", "change", "payload")

T = TypeVar("T")


def _rows_per_statement(columns: int) -> int:
    """Rows of ``columns`` bound values that fit one statement, capped at a few hundred (a
    longer statement is no faster and costs more to build)."""
    return max(1, min(CHUNK_ROWS, (MAX_BOUND_PARAMETERS - 10) // columns))


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _status_row(
    run_id: int, result: ScopeResult, records: int, now: Any, *, status: str | None = None
) -> tuple[Any, ...]:
    """A ``source_status`` row in :data:`_STATUS_COLUMNS` order (``now`` already bound)."""
    return (
        run_id,
        result.source,
        result.scope,
        result.customer_tenant_id,
        status or str(result.status),
        result.error_kind,
        result.error,
        records,
        now,
        result.as_of_run_id,
    )


_LADDER = (256, 64, 16, 4, 1)


class _Bulk:
    """One multi-row ``INSERT ... ON CONFLICT`` of a table, built with the dialect's own insert
    construct (``sqlalchemy.dialects.sqlite/postgresql``) and compiled once.

    SQLite gets a multi-row ``VALUES`` statement, compiled once per row count (a dozen sizes:
    full pages, then a ladder of powers of four) because SQLAlchemy does not cache one and
    compiling it costs more than running it; no statement has more than
    :data:`MAX_BOUND_PARAMETERS` bound values. PostgreSQL gets ``INSERT ... SELECT ... FROM
    json_to_recordset(%s)``: the rows travel as one JSON parameter, since psycopg re-parses a
    long statement on every call and escapes every element of an array parameter. Both go
    through the DBAPI with positional parameters.
    """

    def __init__(
        self,
        dialect: Dialect,
        table: Table,
        columns: tuple[str, ...],
        finish: Callable[[Any], Any],
        *,
        returning: bool = False,
    ) -> None:
        self.dialect = dialect
        self.table = table
        self.columns = columns
        self.finish = finish
        self.returning = returning
        self.arrays = dialect.name == "postgresql"
        self.rows_per_statement = 5000 if self.arrays else _rows_per_statement(len(columns))
        self._compile_as = (
            type(dialect)(paramstyle="format")  # type: ignore[call-arg]
            if self.arrays
            else dialect
        )
        self._sql: dict[int, str] = {}

    def sql(self, rows: int) -> str:
        key = 0 if self.arrays else rows
        known = self._sql.get(key)
        if known is not None:
            return known
        stmt: Any
        if self.arrays:
            rows_in = (
                func.json_to_recordset(bindparam("rows"))
                .table_valued(*[column(c, _plain_type(self.table.c[c])) for c in self.columns])
                .render_derived(name="r", with_types=True)
            )
            stmt = pg_insert(self.table).from_select(
                list(self.columns), select(*[rows_in.c[c] for c in self.columns])
            )
            expected = ["rows"]
        else:
            values = [
                {c: bindparam(f"{c}_{n}", type_=self.table.c[c].type) for c in self.columns}
                for n in range(rows)
            ]
            stmt = sqlite_insert(self.table).values(values)
            expected = [f"{c}_{n}" for n in range(rows) for c in self.columns]
        compiled = self.finish(stmt).compile(dialect=self._compile_as)
        if list(compiled.positiontup or ()) != expected:  # pragma: no cover - a new dialect
            raise RuntimeError(f"unexpected bind order for a bulk insert into {self.table.name}")
        sql = str(compiled)
        self._sql[key] = sql
        return sql

    def run(self, conn: Connection, rows: Sequence[tuple[Any, ...]]) -> list[Any]:
        """Insert ``rows`` (tuples in column order, values already bound); the rows returned."""
        out: list[Any] = []
        start = 0
        while start < len(rows):
            left = len(rows) - start
            size = (
                min(left, self.rows_per_statement)
                if self.arrays
                else self.rows_per_statement
                if left >= self.rows_per_statement
                else next(step for step in _LADDER if step <= left)
            )
            chunk = rows[start : start + size]
            start += size
            if self.arrays:
                params: tuple[Any, ...] = (
                    json.dumps(
                        [dict(zip(self.columns, row, strict=True)) for row in chunk],
                        default=_json_value,
                        separators=(",", ":"),
                    ),
                )
            else:
                params = tuple(value for row in chunk for value in row)
            result = conn.exec_driver_sql(self.sql(size), params)
            if self.returning:
                out.extend(result.fetchall())
        return out


def _json_value(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot send {type(value).__name__} in a bulk insert")


def _plain_type(column: Any) -> Any:
    """A column's type for reading rows out of JSON: strings without their length (the
    insert itself checks it), a type decorator as the type it stores."""
    kind = column.type
    if isinstance(kind, String):
        return Text()
    if isinstance(kind, TypeDecorator):
        return kind.impl
    return kind


class _BulkStatements:
    """The store's bulk writes for one dialect."""

    def __init__(self, dialect: Dialect) -> None:
        status_key = ["run_id", "source", "scope"]
        self.timestamp_processor = _OBSERVATION.c.last_seen_at.type.bind_processor(dialect)

        def status_upsert(stmt: Any) -> Any:
            return stmt.on_conflict_do_update(
                index_elements=status_key,
                set_={c: stmt.excluded[c] for c in _STATUS_COLUMNS if c not in status_key},
            )

        def observation_upsert(stmt: Any) -> Any:
            # New: added. Known (changed or restored): payload, stamps, removal cleared;
            # first_seen stays.
            return stmt.on_conflict_do_update(
                index_elements=["source", "scope", "kind", "key"],
                set_={
                    "payload": stmt.excluded.payload,
                    "payload_hash": stmt.excluded.payload_hash,
                    "last_seen_at": stmt.excluded.last_seen_at,
                    "last_run_id": stmt.excluded.last_run_id,
                    "removed_at": null(),
                    "removed_run_id": null(),
                },
            ).returning(
                _OBSERVATION.c.id,
                _OBSERVATION.c.source,
                _OBSERVATION.c.scope,
                _OBSERVATION.c.kind,
                _OBSERVATION.c.key,
            )

        self.observations = _Bulk(
            dialect, _OBSERVATION, _OBSERVATION_COLUMNS, observation_upsert, returning=True
        )
        self.events = _Bulk(dialect, _EVENT, _EVENT_COLUMNS, lambda stmt: stmt)
        self.statuses = _Bulk(dialect, _STATUS, _STATUS_COLUMNS, status_upsert)
        self.statuses_opened = _Bulk(
            dialect,
            _STATUS,
            _STATUS_COLUMNS,
            lambda stmt: stmt.on_conflict_do_nothing(index_elements=status_key),
        )

    def timestamp(self, value: datetime) -> Any:
        """A datetime as the driver takes it (naive UTC text on SQLite, aware on PostgreSQL)."""
        processor = self.timestamp_processor
        return processor(value) if processor is not None else value
