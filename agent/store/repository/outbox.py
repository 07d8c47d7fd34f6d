"""The notification outbox's rows: planned inside the audit's transaction, claimed, recorded;
and the external ids sinks keep per finding.

A sender claims due rows with a conditional UPDATE (SQLite) or ``SELECT ... FOR UPDATE SKIP
LOCKED`` (PostgreSQL) and, in the same transaction, writes the delivery row, so the row exists
before the request leaves. A claim older than the lease is claimable again: a sender killed
after claiming is covered by the next one (at-least-once), and the outcome is recorded only by
the claim's holder (a fenced UPDATE).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, CursorResult, and_, func, or_, select, update
from sqlmodel import Session

from agent.store.alert_models import (
    AlertDelivery,
    AlertOutbox,
    AlertReference,
    AlertState,
    DeliveryStatus,
    OutboxStatus,
)
from agent.store.models import Finding, FindingStatus
from agent.store.repository.base import StoreBase
from agent.store.repository.tables import ALERT_STATE, DELIVERY, FINDING, OUTBOX, REFERENCE

_CHUNK = 500  # fingerprints per IN (...): far below SQLite's bound-parameter limit


@dataclass(frozen=True, slots=True)
class SinkHistory:
    """What one sink has been sent about one finding (one ``alert_state`` row)."""

    last_action: str
    last_at: datetime
    open_episode: bool


class OutboxBook:
    """The outbox inside one write transaction (the audit's own): what to decide over, and
    where the decisions go, committed or rolled back with the findings they are about."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._states: dict[tuple[str, str], AlertState] = {}

    def candidates(self) -> list[Finding]:
        """Open findings (first/new/repeat) and resolved ones some sink still has open."""
        s = self._session
        firing = list(s.scalars(select(Finding).where(FINDING.c.status == FindingStatus.OPEN)))
        closing = list(
            s.scalars(
                select(Finding).where(
                    FINDING.c.status == FindingStatus.RESOLVED,
                    FINDING.c.fingerprint.in_(
                        select(ALERT_STATE.c.fingerprint).where(
                            ALERT_STATE.c.open_episode.is_(True)
                        )
                    ),
                )
            )
        )
        return sorted(firing + closing, key=lambda f: f.id or 0)

    def histories(self, fingerprints: Sequence[str]) -> dict[tuple[str, str], SinkHistory]:
        """(fingerprint, sink) → what that sink has heard of that finding."""
        for start in range(0, len(fingerprints), _CHUNK):
            chunk = fingerprints[start : start + _CHUNK]
            query = select(AlertState).where(ALERT_STATE.c.fingerprint.in_(chunk))
            for state in self._session.scalars(query):
                self._states[(state.fingerprint, state.sink)] = state
        return {
            key: SinkHistory(state.last_action, state.last_at, state.open_episode)
            for key, state in self._states.items()
        }

    def enqueue(
        self,
        *,
        dedup_key: str,
        kind: str,
        sink: str,
        payload: str,
        now: datetime,
        run_id: int | None,
    ) -> AlertOutbox:
        """One outbox row, flushed so it has its id; the dispatcher sends it later."""
        row = AlertOutbox(
            dedup_key=dedup_key,
            kind=kind,
            sink=sink,
            payload=payload,
            status=OutboxStatus.PENDING,
            attempts=0,
            next_attempt_at=now,
            created_at=now,
            run_id=run_id,
        )
        self._session.add(row)
        self._session.flush()
        return row

    def close_episode(self, fingerprint: str, sink: str) -> None:
        """The sink will hear no resolve of this finding (it does not take them)."""
        state = self._states.get((fingerprint, sink))
        if state is not None:
            state.open_episode = False

    def remember(
        self,
        fingerprint: str,
        sink: str,
        *,
        action: str,
        open_episode: bool,
        now: datetime,
        outbox_id: int,
        run_id: int | None,
    ) -> None:
        """Note what ``sink`` has been sent about ``fingerprint``, and in which row."""
        state = self._states.get((fingerprint, sink))
        if state is None:
            state = AlertState(
                fingerprint=fingerprint,
                sink=sink,
                last_action=action,
                last_at=now,
                open_episode=True,
            )
            self._session.add(state)
            self._states[(fingerprint, sink)] = state
        state.last_action = action
        state.last_at = now
        state.open_episode = open_episode
        state.outbox_id = outbox_id
        state.run_id = run_id

    def flush(self) -> None:
        self._session.flush()


@dataclass(frozen=True, slots=True)
class Claim:
    """An outbox row this worker holds, with the delivery row written for this attempt."""

    outbox_id: int
    delivery_id: int
    sink: str
    payload: str
    attempt: int
    created_at: datetime
    dedup_key: str
    kind: str


@dataclass(frozen=True, slots=True)
class Outcome:
    """How one attempt ended, and what becomes of the row."""

    delivery: DeliveryStatus
    row: OutboxStatus
    status_code: int | None = None
    error: str | None = None
    duration_ms: float | None = None
    next_attempt_at: datetime | None = None


def _claimable(now: datetime, lease: timedelta) -> ColumnElement[bool]:
    c = OUTBOX.c
    return or_(
        and_(c.status == OutboxStatus.PENDING, c.next_attempt_at <= now),
        and_(c.status == OutboxStatus.CLAIMED, c.claimed_at <= now - lease),
    )


class OutboxMixin(StoreBase):
    def claim_outbox(
        self,
        *,
        worker: str,
        now: datetime,
        lease: timedelta,
        limit: int = 16,
        sinks: Sequence[str] | None = None,
    ) -> list[Claim]:
        """Claim up to ``limit`` due rows for ``worker`` and write their delivery rows."""
        with self.write() as s:
            c = OUTBOX.c
            query = select(c.id).where(_claimable(now, lease))
            if sinks is not None:
                query = query.where(c.sink.in_(list(sinks)))
            query = query.order_by(c.id).limit(limit)
            if self.dialect == "postgresql":
                query = query.with_for_update(skip_locked=True)
            ids = [int(i) for i in s.scalars(query)]
            won: list[int] = []
            for outbox_id in ids:
                # The conditional UPDATE is the claim itself: rowcount 1 means this worker won.
                result = s.execute(
                    update(OUTBOX)
                    .where(c.id == outbox_id, _claimable(now, lease))
                    .values(
                        status=OutboxStatus.CLAIMED,
                        claimed_by=worker,
                        claimed_at=now,
                        attempts=c.attempts + 1,
                    )
                )
                if isinstance(result, CursorResult) and result.rowcount == 1:
                    won.append(outbox_id)
            if not won:
                return []
            rows = list(s.scalars(select(AlertOutbox).where(c.id.in_(won)).order_by(c.id)))
            return [_deliver(s, row, worker, now) for row in rows]

    def record_delivery(
        self,
        claim: Claim,
        outcome: Outcome,
        *,
        worker: str,
        now: datetime,
        references: Mapping[str, str] | None = None,
    ) -> bool:
        """Write an attempt's outcome and the external ids the sink returned; ``False`` if the
        claim was lost to another worker (the delivery row is still completed and the ids
        kept, since the service did accept them; the outbox row is left to its new holder)."""
        with self.write() as s:
            s.execute(
                update(DELIVERY)
                .where(DELIVERY.c.id == claim.delivery_id)
                .values(
                    status=outcome.delivery,
                    status_code=outcome.status_code,
                    error=outcome.error,
                    duration_ms=outcome.duration_ms,
                )
            )
            if references:
                _keep_references(s, claim.sink, references, now)
            values: dict[str, Any] = {"status": outcome.row, "last_error": outcome.error}
            if outcome.row is OutboxStatus.SENT:
                values["sent_at"] = now
            if outcome.row is OutboxStatus.PENDING:
                values.update(
                    next_attempt_at=outcome.next_attempt_at or now,
                    claimed_by=None,
                    claimed_at=None,
                )
            c = OUTBOX.c
            # Fenced: only the holder of this very claim (worker and attempt) may record it.
            result = s.execute(
                update(OUTBOX)
                .where(
                    c.id == claim.outbox_id,
                    c.status == OutboxStatus.CLAIMED,
                    c.claimed_by == worker,
                    c.attempts == claim.attempt,
                )
                .values(**values)
            )
            return isinstance(result, CursorResult) and result.rowcount == 1

    def references(self, sink: str, fingerprints: Sequence[str]) -> dict[str, str]:
        """fingerprint → the external id ``sink`` keeps for it, for those that have one."""
        found: dict[str, str] = {}
        with self.read() as s:
            for start in range(0, len(fingerprints), _CHUNK):
                chunk = list(fingerprints[start : start + _CHUNK])
                rows = s.execute(
                    select(REFERENCE.c.fingerprint, REFERENCE.c.external_id).where(
                        REFERENCE.c.sink == sink, REFERENCE.c.fingerprint.in_(chunk)
                    )
                )
                found.update({str(fp): str(ref) for fp, ref in rows})
        return found

    def open_under(
        self, sink: str, external_ids: Sequence[str], *, excluding: Sequence[str] = ()
    ) -> dict[str, int]:
        """external id → how many findings, other than ``excluding``, ``sink`` keeps under it
        whose episode on ``sink`` is still open (ids with none are left out)."""
        skip, counts = set(excluding), dict[str, int]()
        r, a = REFERENCE.c, ALERT_STATE.c
        with self.read() as s:
            for start in range(0, len(external_ids), _CHUNK):
                chunk = list(external_ids[start : start + _CHUNK])
                rows = s.execute(
                    select(r.external_id, r.fingerprint)
                    .join(ALERT_STATE, and_(a.sink == r.sink, a.fingerprint == r.fingerprint))
                    .where(r.sink == sink, r.external_id.in_(chunk), a.open_episode.is_(True))
                )
                for ref, fingerprint in rows:
                    if fingerprint not in skip:
                        counts[str(ref)] = counts.get(str(ref), 0) + 1
        return counts

    def next_outbox_wakeup(self, *, lease: timedelta) -> datetime | None:
        """When the next row becomes claimable (a retry falls due or a stale claim expires)."""
        with self.read() as s:
            c = OUTBOX.c
            pending = s.scalar(
                select(func.min(c.next_attempt_at)).where(c.status == OutboxStatus.PENDING)
            )
            claimed = s.scalar(
                select(func.min(c.claimed_at)).where(c.status == OutboxStatus.CLAIMED)
            )
        candidates: list[datetime] = []
        if pending is not None:
            candidates.append(_aware(pending))
        if claimed is not None:
            candidates.append(_aware(claimed) + lease)
        return min(candidates) if candidates else None

    def outbox_counts(self) -> dict[str, int]:
        """Rows per outbox status: for `status` and the metrics."""
        with self.read() as s:
            rows = s.execute(select(OUTBOX.c.status, func.count()).group_by(OUTBOX.c.status))
            return {str(status): int(count) for status, count in rows}

    def delivery_counts(self) -> dict[tuple[str, str], int]:
        """Delivery attempts per (sink, outcome): for the metrics."""
        with self.read() as s:
            rows = s.execute(
                select(DELIVERY.c.sink, DELIVERY.c.status, func.count()).group_by(
                    DELIVERY.c.sink, DELIVERY.c.status
                )
            )
            return {(str(sink), str(status)): int(count) for sink, status, count in rows}


def _deliver(s: Session, row: AlertOutbox, worker: str, now: datetime) -> Claim:
    """The delivery row of this attempt, written before the request leaves."""
    assert row.id is not None
    delivery = AlertDelivery(
        outbox_id=row.id,
        attempt=row.attempts,
        sink=row.sink,
        worker=worker,
        at=now,
        status=DeliveryStatus.SENDING,
    )
    s.add(delivery)
    s.flush()
    assert delivery.id is not None
    return Claim(
        row.id,
        delivery.id,
        row.sink,
        row.payload,
        row.attempts,
        row.created_at,
        row.dedup_key,
        row.kind,
    )


def _keep_references(s: Session, sink: str, references: Mapping[str, str], now: datetime) -> None:
    for fingerprint, external_id in references.items():
        row = s.get(AlertReference, (sink, fingerprint))
        if row is None:
            s.add(
                AlertReference(
                    sink=sink,
                    fingerprint=fingerprint,
                    external_id=external_id,
                    created_at=now,
                    updated_at=now,
                )
            )
        elif row.external_id != external_id:
            row.external_id = external_id
            row.updated_at = now


def _aware(value: Any) -> datetime:
    # min() over a UTCDateTime column comes back raw: SQLite gives text, PostgreSQL a datetime.
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
