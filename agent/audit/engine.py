"""The audit engine: builds each customer's snapshot, runs the rules, and moves findings
through their life (pending → open → resolved, reopen; suspect while a source anomaly holds
them) with one event row per change.

Customers are audited in batches, so memory follows the batch, not the estate. A first pass
over every batch only counts link transitions per kind (R6: the mass-disappearance guard needs
the whole estate's figures before any finding is written); the second pass runs the rules. A
rule whose required sources were not read completely for a customer is not evaluated there, and
its findings stay exactly as they were; so does every finding a rule marks ``unknown``. Counts
that decide opening and resolving (``hits``, ``clears``) therefore move only on evaluated runs,
and live in the database, so they survive restarts (R4, R5, R9).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Any, cast

import structlog
from sqlalchemy import Table, and_, func, select
from sqlmodel import Session, col

from agent.audit.anomaly import Anomaly, LinkTally, source_anomalies
from agent.audit.model import Candidate, Rule, Verdict, fingerprint
from agent.audit.rules import RULES
from agent.audit.snapshot import (
    PARTNER_SCOPED,
    AuditContext,
    CustomerSnapshot,
    LinkState,
    derive_links,
    expand,
    group_records,
    track_links,
)
from agent.store import FindingStatus, Store
from agent.store.models import (
    ACTIVE_STATUSES,
    Finding,
    FindingEvent,
    Link,
    SourceStatus,
    SyncRun,
)
from connectors.records import (
    Attribution,
    CspSubscription,
    Customer,
    GdapRelationship,
    Identity,
    PalLink,
    Record,
)

log = structlog.get_logger("partnerlink.audit")

_LINK_RECORDS = tuple(
    cls.KIND
    for cls in (Customer, CspSubscription, GdapRelationship, PalLink, Attribution, Identity)
)
"""What deriving links and proving them absent reads: all the first pass loads."""
# Core tables: their columns type-check as SQL expressions, where the SQLModel class
# attributes type as plain Python values.
_SOURCE_STATUS = cast(Table, SourceStatus.__table__)  # type: ignore[attr-defined]
_SYNC_RUN = cast(Table, SyncRun.__table__)  # type: ignore[attr-defined]
_FINDING = cast(Table, Finding.__table__)  # type: ignore[attr-defined]


class NothingToAudit(Exception):
    """No finished sync run exists yet."""


@dataclass(slots=True)
class Coverage:
    """How much of the estate carries the partner's links, for the report's history charts."""

    customers: int = 0
    customers_linked: int = 0
    azure_subscriptions: int = 0
    azure_linked: int = 0
    mau: float = 0.0
    mau_linked: float = 0.0
    acr_usd: float = 0.0
    acr_linked: float = 0.0

    def add(self, snapshot: CustomerSnapshot, ctx: AuditContext) -> None:
        present = [s for s in snapshot.link_states if s.missing_runs == 0 and ctx.ours(s.holder)]
        self.customers += 1
        self.customers_linked += bool(present)
        pal = {s.workload for s in present if s.kind == "pal"}
        por = {s.workload for s in present if s.kind in ("cpor", "dpor")}
        for sub in snapshot.reachable_subscriptions(ctx.identities):
            workload = f"azure:{sub}"
            acr = float(snapshot.stake(workload).get("acr_usd") or 0.0)
            self.azure_subscriptions += 1
            self.acr_usd += acr
            if workload in pal or workload in por:
                self.azure_linked += 1
                self.acr_linked += acr
        mau = float(snapshot.stake("m365").get("mau") or 0.0)
        self.mau += mau
        if "m365" in por:
            self.mau_linked += mau

    def shares(self) -> dict[str, float | None]:
        def share(part: float, whole: float) -> float | None:
            return round(part / whole, 4) if whole else None

        return {
            "customers": share(self.customers_linked, self.customers),
            "azure_subscriptions": share(self.azure_linked, self.azure_subscriptions),
            "mau": share(self.mau_linked, self.mau),
            "acr": share(self.acr_linked, self.acr_usd),
        }


@dataclass(slots=True)
class AuditOutcome:
    run_id: int
    customers: int = 0
    new: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    suspect: list[str] = field(default_factory=list)
    """Findings held (or newly held) as suspect by a source anomaly (R6)."""
    resolved: list[str] = field(default_factory=list)
    withdrawn: list[str] = field(default_factory=list)
    """Pending or suspect findings whose condition cleared before anyone was told."""
    anomalies: list[Anomaly] = field(default_factory=list)
    ongoing: int = 0
    not_evaluated: int = 0
    """(rule, customer) pairs skipped because a required source was incomplete."""
    coverage: Coverage = field(default_factory=Coverage)

    def summary(self) -> dict[str, int]:
        return {
            "customers": self.customers,
            "new": len(self.new),
            "pending": len(self.pending),
            "suspect": len(self.suspect),
            "resolved": len(self.resolved),
            "withdrawn": len(self.withdrawn),
            "ongoing": self.ongoing,
            "not_evaluated": self.not_evaluated,
            "anomalies": len(self.anomalies),
        }


ContextFactory = Callable[[datetime, int], AuditContext]


class Auditor:
    def __init__(
        self,
        store: Store,
        context: ContextFactory,
        *,
        clock: Callable[[], datetime],
        rules: Sequence[Rule] = RULES,
        batch: int = 500,
        after: Callable[[Session, int, datetime], object] | None = None,
    ) -> None:
        self.store = store
        self.context = context
        self.clock = clock
        self.rules = rules
        self.batch = batch
        self.after = after
        """Runs in the transaction that marks the run audited: the alert outbox (R10)."""

    def run(self, run_id: int | None = None) -> AuditOutcome:
        run = self.store.run(run_id) if run_id is not None else self.store.last_finished_run()
        if run is None or run.id is None:
            raise NothingToAudit("no finished sync run to audit yet: run `partnerlink sync`")
        if run.status not in ("complete", "partial"):
            raise NothingToAudit(f"run {run.id} is {run.status}; only finished runs are audited")
        now = self.clock()
        ctx = self.context(now, run.id)
        statuses = self.store.statuses(run.id)
        status_map = {k: v.status for k, v in statuses.items()}
        errors = {k: v.error or "" for k, v in statuses.items()}
        outcome = AuditOutcome(run_id=run.id)

        partner = {k: v for k, v in status_map.items() if k[1] == "partner"}
        customers = sorted(
            set(self.store.known_customers())
            | set(ctx.expectations)
            | {v.customer_tenant_id for v in statuses.values() if v.customer_tenant_id}
            | self._customers_with_findings()
        )
        outcome.customers = len(customers)
        by_customer: dict[str, dict[tuple[str, str], str]] = defaultdict(dict)
        for (source, scope), status in status_map.items():
            row = statuses[(source, scope)]
            if row.customer_tenant_id:
                by_customer[row.customer_tenant_id][(source, scope)] = status

        def scoped(chunk: list[str]) -> dict[str, dict[tuple[str, str], str]]:
            return {c: {**partner, **by_customer.get(c, {})} for c in chunk}

        anomalies = self._anomalies(ctx, run, customers, scoped, errors)
        ctx = replace(ctx, anomalies=tuple(anomalies))
        outcome.anomalies = anomalies
        for anomaly in anomalies:
            log.warning("source_anomaly", run_id=run.id, **anomaly.as_dict())

        self._audit_batch(ctx, outcome, [""], {"": partner}, errors)
        for start in range(0, len(customers), self.batch):
            chunk = customers[start : start + self.batch]
            self._audit_batch(ctx, outcome, chunk, scoped(chunk), errors)
        with self.store.write() as s:
            self.store.mark_audited(
                run.id,
                now,
                session=s,
                coverage={**asdict(outcome.coverage), "shares": outcome.coverage.shares()},
            )
            if self.after is not None:
                self.after(s, run.id, now)
        log.info("audit_finished", run_id=run.id, **outcome.summary())
        return outcome

    def _anomalies(
        self,
        ctx: AuditContext,
        run: SyncRun,
        customers: list[str],
        scoped: Callable[[list[str]], dict[str, dict[tuple[str, str], str]]],
        errors: dict[tuple[str, str], str],
    ) -> list[Anomaly]:
        """First pass (R6): count, per link kind, the links known before this run and those
        this run proved gone, one batch at a time, keeping only the counts; and compare each
        source's items with the previous run's. Nothing is written."""
        tally = LinkTally()
        for start in range(0, len(customers), self.batch):
            chunk = customers[start : start + self.batch]
            records, stored = self._load(chunk, kinds=_LINK_RECORDS)
            per = scoped(chunk)
            for tenant in chunk:
                snapshot = _snapshot(tenant, records.get(tenant, ()), per[tenant], errors)
                tally.add(
                    track_links(snapshot, stored.get(tenant, ()), ctx), ctx.run_id, run.started_at
                )
        return [
            *source_anomalies(self._source_counts(run)),
            *tally.anomalies(ctx.mass_disappearance_percent),
        ]

    def _source_counts(self, run: SyncRun) -> dict[str, tuple[int, int]]:
        """Per source: items in the previous finished run and in this one, over the scopes
        read completely both times (a failed read proves nothing either way)."""
        with self.store.read() as s:
            runs = _SYNC_RUN.c
            previous = s.scalars(
                select(runs.id)
                .where(runs.id < run.id, runs.status.in_(("complete", "partial")))
                .order_by(runs.id.desc())
                .limit(1)
            ).first()
            if previous is None:
                return {}
            cur, old = _SOURCE_STATUS.alias("cur"), _SOURCE_STATUS.alias("old")
            rows = s.execute(
                select(cur.c.source, func.sum(old.c.records), func.sum(cur.c.records))
                .join_from(cur, old, and_(old.c.source == cur.c.source, old.c.scope == cur.c.scope))
                .where(
                    cur.c.run_id == run.id,
                    old.c.run_id == previous,
                    cur.c.status == "complete",
                    old.c.status == "complete",
                )
                .group_by(cur.c.source)
            )
            return {str(src): (int(before or 0), int(now or 0)) for src, before, now in rows}

    def _load(
        self,
        customers: list[str],
        kinds: tuple[str, ...] | None = None,
    ) -> tuple[dict[str, list[Record]], dict[str, list[LinkState]]]:
        records: dict[str, list[Record]] = defaultdict(list)
        stored: dict[str, list[LinkState]] = defaultdict(list)
        for obs in self.store.current(customers=customers, kinds=kinds):
            if obs.record.customer_tenant_id:
                records[obs.record.customer_tenant_id].append(obs.record)
        for link in self.store.links(customers):
            stored[link.customer_tenant_id].append(_state(link))
        return records, stored

    def _customers_with_findings(self) -> set[str]:
        with self.store.read() as s:
            rows = s.scalars(
                select(_FINDING.c.customer_tenant_id)
                .where(_FINDING.c.status.in_([str(x) for x in ACTIVE_STATUSES]))
                .distinct()
            )
            return {r for r in rows if r}

    def _audit_batch(
        self,
        ctx: AuditContext,
        outcome: AuditOutcome,
        customers: list[str],
        statuses: dict[str, dict[tuple[str, str], str]],
        errors: dict[tuple[str, str], str],
    ) -> None:
        partner_level = customers == [""]
        records, stored = ({}, {}) if partner_level else self._load(customers)
        with self.store.write() as s:
            existing = {
                f.fingerprint: f
                for f in s.scalars(
                    select(Finding).where(
                        col(Finding.customer_tenant_id).is_(None)
                        if partner_level
                        else col(Finding.customer_tenant_id).in_(customers)
                    )
                )
            }
            for tenant in customers:
                snapshot = _snapshot(tenant, records.get(tenant, ()), statuses[tenant], errors)
                snapshot.link_states = track_links(snapshot, stored.get(tenant, ()), ctx)
                snapshot.expectations = expand(ctx.expectations.get(tenant, ()), snapshot, ctx)
                for rule in self.rules:
                    if not evaluable(rule, snapshot):
                        outcome.not_evaluated += 1
                        continue
                    candidates = list(rule.evaluate(snapshot, ctx))
                    self._reconcile(
                        s, ctx, outcome, rule, tenant or None, snapshot.name, candidates, existing
                    )
                _save_links(s, snapshot.link_states)
                if tenant:
                    outcome.coverage.add(snapshot, ctx)

    def _reconcile(
        self,
        s: Session,
        ctx: AuditContext,
        outcome: AuditOutcome,
        rule: Rule,
        customer: str | None,
        customer_name: str,
        candidates: Iterable[Candidate],
        existing: dict[str, Finding],
    ) -> None:
        """Move this rule's findings for one customer (or the partner) one run along.

        Seen: new → pending, open or suspect; pending → open after ``open_after_runs``
        consecutive evaluated runs (and the rule's own confirmation); suspect → open or pending
        once a run without the anomaly still sees it; resolved → reopened. Not seen: pending and
        suspect are withdrawn at once (never announced, so no resolve either); announced ones
        resolve after ``resolve_after_runs`` consecutive clears. Auditing a run twice changes
        nothing the second time.
        """
        now, run_id = ctx.now, ctx.run_id
        open_k = rule.meta.open_after_runs or ctx.open_after_runs
        resolve_k = rule.meta.resolve_after_runs or ctx.resolve_after_runs
        seen: set[str] = set()
        for cand in candidates:
            fp = fingerprint(
                cand.rule, ctx.partner_key, cand.customer_tenant_id, cand.link_kind, cand.link_id
            )
            seen.add(fp)
            if cand.verdict is Verdict.UNKNOWN:
                continue
            finding = existing.get(fp)
            if finding is None:
                target = _target(cand, 1, open_k)
                finding = Finding(
                    fingerprint=fp,
                    rule=cand.rule,
                    status=target,
                    first_seen=now,
                    last_seen=now,
                    hits=1,
                    clears=0,
                    last_run_id=run_id,
                    severity="",
                    subject="",
                    title="",
                )
                for key, value in _content(rule, cand, customer_name).items():
                    setattr(finding, key, value)
                s.add(finding)
                existing[fp] = finding
                _event(s, fp, run_id, now, None, target, _HELD if cand.suspect else None)
                _tell(outcome, fp, target)
                continue
            for key, value in _content(rule, cand, customer_name).items():
                setattr(finding, key, value)
            if finding.last_run_id == run_id and finding.status != FindingStatus.RESOLVED:
                continue  # this run was already counted
            finding.last_seen = now
            finding.last_run_id = run_id
            finding.clears = 0
            old = finding.status
            if old == FindingStatus.RESOLVED:
                target = _target(cand, 1, open_k)
                finding.status, finding.resolved_at, finding.hits = target, None, 1
                _event(
                    s,
                    fp,
                    run_id,
                    now,
                    old,
                    target,
                    "reopened" + ("; " + _HELD if cand.suspect else ""),
                )
                _tell(outcome, fp, target)
                continue
            finding.hits += 1
            if old in (FindingStatus.PENDING, FindingStatus.SUSPECT):
                target = _target(cand, finding.hits, open_k)
                if target != old:
                    finding.status = target
                    _event(s, fp, run_id, now, old, target, _why(old, target))
                    _tell(outcome, fp, target)
                elif target is FindingStatus.SUSPECT:
                    outcome.suspect.append(fp)
                else:
                    outcome.ongoing += 1
            elif (
                old == FindingStatus.SNOOZED and finding.until is not None and finding.until <= now
            ):
                finding.status, finding.until = FindingStatus.OPEN, None
                _event(
                    s, fp, run_id, now, FindingStatus.SNOOZED, FindingStatus.OPEN, "snooze ended"
                )
            else:
                outcome.ongoing += 1  # announced already: a suspect sighting changes nothing
        for fp, finding in existing.items():
            if (
                fp in seen
                or finding.rule != rule.meta.id
                or finding.customer_tenant_id != customer
                or finding.status not in ACTIVE_STATUSES
                or finding.last_run_id == run_id
            ):
                continue
            finding.last_run_id = run_id
            old = finding.status
            if old in (FindingStatus.PENDING, FindingStatus.SUSPECT):
                finding.status, finding.resolved_at = FindingStatus.RESOLVED, now
                _event(
                    s,
                    fp,
                    run_id,
                    now,
                    old,
                    FindingStatus.RESOLVED,
                    "withdrawn before it was confirmed"
                    if old == FindingStatus.PENDING
                    else "withdrawn: it came back after the source anomaly",
                )
                outcome.withdrawn.append(fp)
                continue
            finding.clears += 1
            if finding.clears >= resolve_k:
                finding.status, finding.resolved_at = FindingStatus.RESOLVED, now
                _event(s, fp, run_id, now, old, FindingStatus.RESOLVED)
                outcome.resolved.append(fp)


_HELD = "held as suspect: a source anomaly makes this run's data doubtful"


def _target(cand: Candidate, hits: int, open_k: int) -> FindingStatus:
    """Where a finding seen ``hits`` consecutive evaluated runs stands (not yet announced)."""
    if cand.suspect:
        return FindingStatus.SUSPECT
    if cand.confirmed and hits >= open_k:
        return FindingStatus.OPEN
    return FindingStatus.PENDING


def _why(old: str, new: FindingStatus) -> str:
    if new is FindingStatus.SUSPECT:
        return _HELD
    if old == FindingStatus.SUSPECT:
        return (
            "confirmed by a run without the anomaly"
            if new is FindingStatus.OPEN
            else "released: a run without the anomaly still sees it"
        )
    return "confirmed"


def _tell(outcome: AuditOutcome, fp: str, status: FindingStatus) -> None:
    {FindingStatus.OPEN: outcome.new, FindingStatus.SUSPECT: outcome.suspect}.get(
        status, outcome.pending
    ).append(fp)


def _snapshot(
    tenant: str,
    records: Iterable[Record],
    statuses: dict[tuple[str, str], str],
    errors: dict[tuple[str, str], str],
) -> CustomerSnapshot:
    snapshot = CustomerSnapshot(
        tenant_id=tenant, records=group_records(records), statuses=statuses, errors=errors
    )
    snapshot.links = derive_links(snapshot)
    return snapshot


def evaluable(rule: Rule, snapshot: CustomerSnapshot) -> bool:
    """Whether the rule's required sources were read completely for this snapshot."""
    # The partner-level snapshot has no customer scopes: only partner sources gate it.
    return all(
        snapshot.complete(source)
        for source in rule.meta.required_sources
        if source in PARTNER_SCOPED or snapshot.tenant_id
    )


def _content(rule: Rule, cand: Candidate, customer_name: str) -> dict[str, object]:
    severity = cand.severity or rule.meta.severity
    return {
        "severity": str(severity),
        "customer_tenant_id": cand.customer_tenant_id,
        "customer_name": customer_name if cand.customer_tenant_id else None,
        "subject": cand.subject[:300],
        "link_kind": cand.link_kind,
        "title": cand.title,
        "remediation": cand.remediation or rule.meta.remediation,
        "evidence": json.dumps(cand.evidence, sort_keys=True, default=str),
        "value_at_stake": cand.value_at_stake,
    }


def _event(
    s: Session,
    fp: str,
    run_id: int,
    now: datetime,
    old: str | None,
    new: str,
    note: str | None = None,
) -> None:
    s.add(
        FindingEvent(
            fingerprint=fp, run_id=run_id, at=now, from_status=old, to_status=new, note=note
        )
    )


def _state(link: Link) -> LinkState:
    detail: dict[str, Any] = json.loads(link.detail or "{}")
    # The link table has no column for it: the hold rides in the detail JSON.
    held = detail.pop(_HELD_KEY, None)
    return LinkState(
        key=link.link_key,
        kind=link.kind,
        customer_tenant_id=link.customer_tenant_id,
        workload=link.workload,
        holder=link.holder,
        ref=link.identity or "",
        source=link.source,
        first_seen_at=link.first_seen_at,
        last_seen_at=link.last_seen_at,
        last_seen_run_id=link.last_seen_run_id,
        missing_runs=link.missing_runs,
        last_counted_run_id=link.last_counted_run_id,
        cause=link.cause,
        detail=detail,
        held_run_id=held,
    )


_HELD_KEY = "_held_run_id"


def _save_links(s: Session, states: Iterable[LinkState]) -> None:
    dirty = [st for st in states if st.dirty]
    if not dirty:
        return
    rows = {
        link.link_key: link
        for link in s.scalars(select(Link).where(Link.link_key.in_([d.key for d in dirty])))  # type: ignore[attr-defined]
    }
    for st in dirty:
        row = rows.get(st.key)
        if row is None:
            row = Link(
                link_key=st.key,
                kind=st.kind,
                customer_tenant_id=st.customer_tenant_id,
                workload=st.workload,
                holder=st.holder,
                identity=st.ref,
                source=st.source,
                first_seen_at=st.first_seen_at,
                last_seen_at=st.last_seen_at,
                last_seen_run_id=st.last_seen_run_id,
            )
            s.add(row)
        row.last_seen_at = st.last_seen_at
        row.last_seen_run_id = st.last_seen_run_id
        row.missing_runs = st.missing_runs
        row.last_counted_run_id = st.last_counted_run_id
        row.cause = st.cause
        detail = {**st.detail, _HELD_KEY: st.held_run_id} if st.held_run_id else st.detail
        row.detail = json.dumps(detail, sort_keys=True, default=str)
