"""Findings: the lists people read, their decisions (``agent.acting``), and the book the audit
writes its lifecycle decisions into, inside its own transaction."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Row, case, func, or_, select
from sqlmodel import Session, col

from agent.store.models import ACTIVE_STATUSES, Finding, FindingEvent, FindingStatus
from agent.store.repository.base import StoreBase
from agent.store.repository.tables import FINDING
from agent.store.values import Decided, FindingContent, FindingState, StatusChange


class FindingsMixin(StoreBase):
    def findings(
        self,
        *,
        statuses: Sequence[str] | None = None,
        customers: Sequence[str] | None = None,
        rules: Sequence[str] | None = None,
    ) -> list[Finding]:
        where = _narrowed(statuses, customers, rules)
        with self.read() as s:
            return list(s.scalars(select(Finding).where(*where).order_by(FINDING.c.id)))

    def finding_rows(
        self,
        *,
        statuses: Sequence[str] | None = None,
        customers: Sequence[str] | None = None,
        rules: Sequence[str] | None = None,
    ) -> list[Row[Any]]:
        """The findings :meth:`findings` gives, as plain read-only rows (a field each column,
        by name) without an ORM object each: what the command line prints, 20,000 at a time
        on a large estate."""
        where = _narrowed(statuses, customers, rules)
        with self.read() as s:
            return list(s.execute(select(FINDING).where(*where).order_by(FINDING.c.id)))

    def finding_list(
        self, *, statuses: Sequence[str] | None, rule: str | None, offset: int, limit: int
    ) -> tuple[list[Finding], int]:
        """One page of findings for people to work through, and how many there are in all:
        open ones first, then held, put aside and resolved ones; within each, the most severe
        and the most valuable first."""
        where: list[ColumnElement[bool]] = []
        if statuses is not None:
            where.append(FINDING.c.status.in_(list(statuses)))
        if rule is not None:
            where.append(FINDING.c.rule == rule)
        with self.read() as s:
            total = s.scalar(select(func.count()).select_from(FINDING).where(*where)) or 0
            query = (
                select(Finding)
                .where(*where)
                .order_by(
                    case(_WORK_ORDER, value=FINDING.c.status, else_=len(_WORK_ORDER)),
                    case(_SEVERITY_ORDER, value=FINDING.c.severity, else_=len(_SEVERITY_ORDER)),
                    FINDING.c.value_at_stake.desc(),
                    FINDING.c.id,
                )
                .offset(offset)
                .limit(limit)
            )
            return list(s.scalars(query)), int(total)

    def finding(self, fingerprint: str) -> Finding | None:
        """The one finding whose id starts with ``fingerprint``; None if there is none,
        :class:`AmbiguousFinding` if there are several."""
        with self.read() as s:
            return _one_finding(s, fingerprint, required=False)

    def decide_finding(self, fingerprint: str, decided: Decided) -> Finding:
        """Store a person's decision on the finding ``fingerprint`` names, with the event that
        records it; :class:`FindingMoved` if the finding is no longer where the decision
        found it (the audit, or another person, moved it in between)."""
        with self.write() as s:
            finding = _one_finding(s, fingerprint, required=True)
            assert finding is not None
            if finding.status != decided.from_status:
                raise FindingMoved(finding.fingerprint, decided.from_status, finding.status)
            finding.status = decided.status
            finding.until = decided.until
            finding.accepted_condition = decided.accepted
            finding.owner = decided.owner or finding.owner
            finding.note = decided.reason or finding.note
            s.add(
                FindingEvent(
                    fingerprint=finding.fingerprint,
                    at=decided.at,
                    from_status=decided.from_status,
                    to_status=decided.status,
                    note=decided.note or None,
                    actor=decided.actor,
                    action=decided.action,
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

    def finding_counts(self) -> dict[tuple[str, str], int]:
        """Findings per (rule, status): for the metrics."""
        with self.read() as s:
            rows = s.execute(
                select(FINDING.c.rule, FINDING.c.status, func.count()).group_by(
                    FINDING.c.rule, FINDING.c.status
                )
            )
            return {(str(rule), str(status)): int(count) for rule, status, count in rows}

    def customers_with_active_findings(self) -> set[str]:
        with self.read() as s:
            rows = s.scalars(
                select(FINDING.c.customer_tenant_id)
                .where(FINDING.c.status.in_([str(x) for x in ACTIVE_STATUSES]))
                .distinct()
            )
            return {r for r in rows if r}


_WORK_ORDER = {
    status: rank
    for rank, status in enumerate(
        ("open", "suspect", "pending", "acknowledged", "snoozed", "dismissed", "resolved")
    )
}
_SEVERITY_ORDER = {
    severity: rank for rank, severity in enumerate(("critical", "high", "medium", "low", "info"))
}


class FindingMoved(ValueError):
    """A decision made on a finding that has moved since it was read."""

    def __init__(self, fingerprint: str, was: str, now: str) -> None:
        super().__init__(f"finding {fingerprint[:12]} was {was} and is now {now}: look at it again")


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


class FindingBook:
    """One audit batch's findings (some customers', or the partner's) inside the audit's write
    transaction: their lifecycle state for the decision, and where its result is written."""

    def __init__(self, session: Session, customers: Sequence[str] | None) -> None:
        self._session = session
        self._rows: dict[str, Finding] = {}
        self._scopes: dict[tuple[str, str | None], list[str]] = defaultdict(list)
        owner = col(Finding.customer_tenant_id)
        query = select(Finding).where(
            owner.is_(None) if customers is None else owner.in_(customers)
        )
        for row in session.scalars(query.order_by(col(Finding.id))):
            self._index(row)

    def _index(self, row: Finding) -> None:
        self._rows[row.fingerprint] = row
        self._scopes[(row.rule, row.customer_tenant_id)].append(row.fingerprint)

    def state(self, fingerprint: str) -> FindingState | None:
        row = self._rows.get(fingerprint)
        if row is None:
            return None
        return FindingState(
            status=FindingStatus(row.status),
            hits=row.hits,
            clears=row.clears,
            last_run_id=row.last_run_id,
            first_seen=row.first_seen,
            last_seen=row.last_seen,
            resolved_at=row.resolved_at,
            until=row.until,
            accepted=row.accepted_condition,
        )

    def fingerprints(self, rule: str, customer: str | None) -> list[str]:
        """This rule's findings for this customer (``None``: the partner), oldest first."""
        return list(self._scopes.get((rule, customer), ()))

    def write(
        self,
        fingerprint: str,
        state: FindingState,
        *,
        content: FindingContent | None = None,
        change: StatusChange | None = None,
    ) -> None:
        """Store a finding's new state (creating it: ``content`` is then required), refresh
        what it says, and record its status change as an event."""
        row = self._rows.get(fingerprint)
        if row is None:
            if content is None:
                raise ValueError(f"finding {fingerprint} is new: its content is needed")
            row = Finding(
                fingerprint=fingerprint,
                rule=content.rule,
                status=state.status,
                first_seen=state.first_seen,
                last_seen=state.last_seen,
                severity="",
                subject="",
                title="",
            )
            _describe(row, content)
            self._session.add(row)
            self._index(row)
        elif content is not None:
            _describe(row, content)
        row.status = state.status
        row.hits = state.hits
        row.clears = state.clears
        row.last_run_id = state.last_run_id
        row.first_seen = state.first_seen
        row.last_seen = state.last_seen
        row.resolved_at = state.resolved_at
        row.until = state.until
        row.accepted_condition = state.accepted
        if change is not None:
            self._session.add(
                FindingEvent(
                    fingerprint=fingerprint,
                    run_id=change.run_id,
                    at=change.at,
                    from_status=change.from_status,
                    to_status=change.to_status,
                    note=change.note,
                )
            )


def _describe(row: Finding, content: FindingContent) -> None:
    row.severity = content.severity
    row.customer_tenant_id = content.customer_tenant_id
    row.customer_name = content.customer_name
    row.subject = content.subject
    row.link_kind = content.link_kind
    row.title = content.title
    row.remediation = content.remediation
    row.evidence = content.evidence
    row.value_at_stake = content.value_at_stake


def _narrowed(
    statuses: Sequence[str] | None,
    customers: Sequence[str] | None,
    rules: Sequence[str] | None,
) -> list[ColumnElement[bool]]:
    """The conditions of a list of findings: some statuses, customers (the partner's own
    findings always kept), rules."""
    where: list[ColumnElement[bool]] = []
    if statuses is not None:
        where.append(FINDING.c.status.in_(list(statuses)))
    if customers is not None:
        tenant = FINDING.c.customer_tenant_id
        where.append(or_(tenant.in_(list(customers)), tenant.is_(None)))
    if rules is not None:
        where.append(FINDING.c.rule.in_(list(rules)))
    return where
