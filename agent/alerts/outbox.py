"""The notification outbox (R10): planning inside the audit's transaction, claiming, recording.

``plan_and_enqueue`` runs in the audit's own session, so the findings and the messages about
them commit or roll back together. A sender claims due rows with a conditional UPDATE (SQLite)
or ``SELECT ... FOR UPDATE SKIP LOCKED`` (PostgreSQL) and, in the same transaction, writes the
delivery row, so the row exists before the request leaves. A claim older than the lease is
claimable again: a sender killed after claiming is covered by the next one (at-least-once),
and the outcome is recorded only by the claim's holder (a fenced UPDATE).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import ColumnElement, CursorResult, and_, func, or_, select, update
from sqlmodel import Session

from agent.alerts.config import AlertsConfig
from agent.alerts.decide import History, decide, routes, view_of
from agent.alerts.grouping import group_messages
from agent.alerts.message import Action, AlertItem, Message
from agent.alerts.models import (
    DELIVERY,
    OUTBOX,
    STATE,
    AlertDelivery,
    AlertOutbox,
    AlertState,
    DeliveryStatus,
    OutboxStatus,
    table_of,
)
from agent.store import Store
from agent.store.models import Finding

FINDING = table_of(Finding)
_CHUNK = 500  # fingerprints per IN (...): far below SQLite's bound-parameter limit


class CustomerLike(Protocol):
    """What routing needs of ``agent.expectations.ManagedCustomer``."""

    @property
    def tenant_id(self) -> str: ...

    @property
    def tags(self) -> tuple[str, ...]: ...


def tags_by_tenant(customers: Iterable[CustomerLike]) -> dict[str, tuple[str, ...]]:
    """tenant id → tags, from the managed-customers file's rows."""
    return {c.tenant_id.lower(): tuple(c.tags) for c in customers}


@dataclass(slots=True)
class PlanSummary:
    run_id: int | None
    messages: int = 0
    by_sink: dict[str, int] = field(default_factory=dict)
    by_action: dict[str, int] = field(default_factory=dict)
    """Finding-level sends by action (first/new/repeat/resolved), across sinks."""
    outbox_ids: list[int] = field(default_factory=list)


def enqueue(
    session: Session,
    message: Message,
    *,
    sink: str,
    now: datetime,
    run_id: int | None,
) -> AlertOutbox:
    """Write one outbox row in the caller's transaction; the dispatcher sends it later."""
    row = AlertOutbox(
        dedup_key=message.dedup_key,
        kind=message.kind.value,
        sink=sink,
        payload=message.to_json(),
        status=OutboxStatus.PENDING,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
        run_id=run_id,
    )
    session.add(row)
    session.flush()
    return row


def _item(finding: Finding) -> AlertItem:
    return AlertItem(
        fingerprint=finding.fingerprint,
        rule=finding.rule,
        severity=str(finding.severity),
        status=str(finding.status),
        title=finding.title,
        subject=finding.subject,
        customer_tenant_id=finding.customer_tenant_id,
        customer_name=finding.customer_name,
        link_kind=finding.link_kind,
        remediation=finding.remediation,
        first_seen=finding.first_seen,
    )


def _rule_titles() -> dict[str, str]:
    # Imported late: the audit engine imports this package, so a top-level import would cycle.
    from agent.audit.rules import RULES

    return {rule.meta.id: rule.meta.title for rule in RULES}


def _candidates(session: Session) -> list[Finding]:
    """Open findings (first/new/repeat) and resolved ones some sink still has open."""
    firing = list(session.scalars(select(Finding).where(FINDING.c.status == "open")))
    closing = list(
        session.scalars(
            select(Finding).where(
                FINDING.c.status == "resolved",
                FINDING.c.fingerprint.in_(
                    select(STATE.c.fingerprint).where(STATE.c.open_episode.is_(True))
                ),
            )
        )
    )
    return sorted(firing + closing, key=lambda f: f.id or 0)


def _states(session: Session, fingerprints: Sequence[str]) -> dict[tuple[str, str], AlertState]:
    found: dict[tuple[str, str], AlertState] = {}
    for start in range(0, len(fingerprints), _CHUNK):
        chunk = fingerprints[start : start + _CHUNK]
        for state in session.scalars(select(AlertState).where(STATE.c.fingerprint.in_(chunk))):
            found[(state.fingerprint, state.sink)] = state
    return found


def plan_and_enqueue(
    session: Session,
    *,
    run_id: int | None,
    now: datetime,
    config: AlertsConfig,
    customer_tags: Mapping[str, Sequence[str]] | None = None,
    rule_titles: Mapping[str, str] | None = None,
) -> PlanSummary:
    """Decide, group and enqueue every message this run calls for, inside ``session``.

    Call it at the end of the audit, in the audit's own write transaction (after its last
    batch of findings is written). Decisions come from the findings' current state and each
    sink's notification log, so calling it twice for one run enqueues nothing the second time.
    """
    summary = PlanSummary(run_id=run_id)
    sinks = [s for s in config.sinks if s.enabled]
    if not sinks:
        return summary
    tags = {k.lower(): tuple(v) for k, v in (customer_tags or {}).items()}
    titles = dict(rule_titles) if rule_titles is not None else _rule_titles()
    findings = _candidates(session)
    states = _states(session, [f.fingerprint for f in findings])
    items: dict[str, AlertItem] = {}
    for sink in sinks:
        decided: list[tuple[AlertItem, Action]] = []
        actions: dict[str, Action] = {}
        for finding in findings:
            view = view_of(finding)
            if not routes(sink, view, tags):
                continue
            state = states.get((finding.fingerprint, sink.name))
            history = (
                None
                if state is None
                else History(Action(state.last_action), state.last_at, state.open_episode)
            )
            decision = decide(
                view,
                history,
                now=now,
                repeat_interval=config.repeat_interval,
                silences=config.silences,
                send_resolved=sink.send_resolved,
            )
            if decision.close_episode and state is not None:
                state.open_episode = False
            if not decision.sends:
                continue
            item = items.get(finding.fingerprint)
            if item is None:
                item = items[finding.fingerprint] = _item(finding)
            decided.append((item, decision.action))
            actions[finding.fingerprint] = decision.action
        for message in group_messages(
            decided, max_items=config.group_max_items, run_id=run_id, now=now, rule_titles=titles
        ):
            row = enqueue(session, message, sink=sink.name, now=now, run_id=run_id)
            assert row.id is not None
            summary.messages += 1
            summary.outbox_ids.append(row.id)
            summary.by_sink[sink.name] = summary.by_sink.get(sink.name, 0) + 1
            for fp in message.fingerprints:
                action = actions[fp]
                summary.by_action[action.value] = summary.by_action.get(action.value, 0) + 1
                _remember(session, states, fp, sink.name, action, now, row.id, run_id)
    session.flush()
    return summary


def _remember(
    session: Session,
    states: dict[tuple[str, str], AlertState],
    fingerprint: str,
    sink: str,
    action: Action,
    now: datetime,
    outbox_id: int,
    run_id: int | None,
) -> None:
    state = states.get((fingerprint, sink))
    if state is None:
        state = AlertState(
            fingerprint=fingerprint,
            sink=sink,
            last_action=action.value,
            last_at=now,
            open_episode=True,
        )
        session.add(state)
        states[(fingerprint, sink)] = state
    state.last_action = action.value
    state.last_at = now
    state.open_episode = action is not Action.RESOLVED
    state.outbox_id = outbox_id
    state.run_id = run_id


# ------------------------------------------------------------------------------- claiming


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


def _claimable(now: datetime, lease: timedelta) -> ColumnElement[bool]:
    c = OUTBOX.c
    return or_(
        and_(c.status == OutboxStatus.PENDING, c.next_attempt_at <= now),
        and_(c.status == OutboxStatus.CLAIMED, c.claimed_at <= now - lease),
    )


def claim(
    store: Store,
    *,
    worker: str,
    now: datetime,
    lease: timedelta,
    limit: int = 16,
    sinks: Sequence[str] | None = None,
) -> list[Claim]:
    """Claim up to ``limit`` due rows for ``worker`` and write their delivery rows."""
    with store.write() as s:
        c = OUTBOX.c
        query = select(c.id).where(_claimable(now, lease))
        if sinks is not None:
            query = query.where(c.sink.in_(list(sinks)))
        query = query.order_by(c.id).limit(limit)
        if store.dialect == "postgresql":
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
        claims: list[Claim] = []
        for row in rows:
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
            claims.append(
                Claim(
                    row.id,
                    delivery.id,
                    row.sink,
                    row.payload,
                    row.attempts,
                    row.created_at,
                    row.dedup_key,
                    row.kind,
                )
            )
        return claims


@dataclass(frozen=True, slots=True)
class Outcome:
    """How one attempt ended, and what becomes of the row."""

    delivery: DeliveryStatus
    row: OutboxStatus
    status_code: int | None = None
    error: str | None = None
    duration_ms: float | None = None
    next_attempt_at: datetime | None = None


def record(store: Store, claim_: Claim, outcome: Outcome, *, worker: str, now: datetime) -> bool:
    """Write an attempt's outcome; ``False`` if the claim was lost to another worker (the
    delivery row is still completed, the outbox row is left to its new holder)."""
    with store.write() as s:
        s.execute(
            update(DELIVERY)
            .where(DELIVERY.c.id == claim_.delivery_id)
            .values(
                status=outcome.delivery,
                status_code=outcome.status_code,
                error=outcome.error,
                duration_ms=outcome.duration_ms,
            )
        )
        values: dict[str, Any] = {"status": outcome.row, "last_error": outcome.error}
        if outcome.row is OutboxStatus.SENT:
            values["sent_at"] = now
        if outcome.row is OutboxStatus.PENDING:
            values.update(
                next_attempt_at=outcome.next_attempt_at or now, claimed_by=None, claimed_at=None
            )
        c = OUTBOX.c
        # Fenced: only the holder of this very claim (worker and attempt) may record it.
        result = s.execute(
            update(OUTBOX)
            .where(
                c.id == claim_.outbox_id,
                c.status == OutboxStatus.CLAIMED,
                c.claimed_by == worker,
                c.attempts == claim_.attempt,
            )
            .values(**values)
        )
        return isinstance(result, CursorResult) and result.rowcount == 1


def next_wakeup(store: Store, *, lease: timedelta) -> datetime | None:
    """When the next row becomes claimable (a retry falls due or a stale claim expires)."""
    with store.read() as s:
        c = OUTBOX.c
        pending = s.scalar(
            select(func.min(c.next_attempt_at)).where(c.status == OutboxStatus.PENDING)
        )
        claimed = s.scalar(select(func.min(c.claimed_at)).where(c.status == OutboxStatus.CLAIMED))
    candidates: list[datetime] = []
    if pending is not None:
        candidates.append(_aware(pending))
    if claimed is not None:
        candidates.append(_aware(claimed) + lease)
    return min(candidates) if candidates else None


def _aware(value: Any) -> datetime:
    # min() over a UTCDateTime column comes back raw: SQLite gives text, PostgreSQL a datetime.
    from datetime import UTC

    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def outbox_counts(store: Store) -> dict[str, int]:
    """Rows per outbox status: for `status` and the metrics."""
    with store.read() as s:
        rows = s.execute(select(OUTBOX.c.status, func.count()).group_by(OUTBOX.c.status))
        return {str(status): int(count) for status, count in rows}
