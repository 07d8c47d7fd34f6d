"""The audit engine: builds each customer's snapshot, runs the rules, and moves findings
through their life (pending → open → resolved, reopen) with one event row per change.

Customers are audited in batches, so memory follows the batch, not the estate. A rule whose
required sources were not read completely for a customer is not evaluated there, and its
findings stay exactly as they were; so does every finding a rule marks ``unknown``.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime

import structlog
from sqlalchemy import select
from sqlmodel import Session

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
from agent.store.models import ACTIVE_STATUSES, Finding, FindingEvent, Link, SyncRun

log = structlog.get_logger("partnerlink.audit")


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
    resolved: list[str] = field(default_factory=list)
    ongoing: int = 0
    not_evaluated: int = 0
    """(rule, customer) pairs skipped because a required source was incomplete."""
    coverage: Coverage = field(default_factory=Coverage)

    def summary(self) -> dict[str, int]:
        return {"customers": self.customers, "new": len(self.new), "pending": len(self.pending),
                "resolved": len(self.resolved), "ongoing": self.ongoing,
                "not_evaluated": self.not_evaluated}


ContextFactory = Callable[[datetime, int], AuditContext]


class Auditor:
    def __init__(
        self, store: Store, context: ContextFactory, *, clock: Callable[[], datetime],
        rules: Sequence[Rule] = RULES, batch: int = 500,
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
        self._audit_batch(ctx, outcome, [""], partner, errors, run)

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
        for start in range(0, len(customers), self.batch):
            chunk = customers[start:start + self.batch]
            per = {c: {**partner, **by_customer.get(c, {})} for c in chunk}
            self._audit_batch(ctx, outcome, chunk, per, errors, run)
        with self.store.write() as s:
            self.store.mark_audited(run.id, now, session=s, coverage={
                **asdict(outcome.coverage), "shares": outcome.coverage.shares()})
            if self.after is not None:
                self.after(s, run.id, now)
        log.info("audit_finished", run_id=run.id, **outcome.summary())
        return outcome

    def _customers_with_findings(self) -> set[str]:
        with self.store.read() as s:
            rows = s.scalars(
                select(Finding.customer_tenant_id)
                .where(Finding.status.in_([str(x) for x in ACTIVE_STATUSES]))  # type: ignore[attr-defined]
                .distinct()
            )
            return {r for r in rows if r}

    def _audit_batch(
        self, ctx: AuditContext, outcome: AuditOutcome, customers: list[str],
        statuses: dict[str, dict[tuple[str, str], str]] | dict[tuple[str, str], str],
        errors: dict[tuple[str, str], str], run: SyncRun,
    ) -> None:
        partner_level = customers == [""]
        records = defaultdict(list)
        stored_links: dict[str, list[LinkState]] = defaultdict(list)
        if not partner_level:
            for obs in self.store.current(customers=customers):
                if obs.record.customer_tenant_id:
                    records[obs.record.customer_tenant_id].append(obs.record)
            for link in self.store.links(customers):
                stored_links[link.customer_tenant_id].append(_state(link))
        with self.store.write() as s:
            existing = {
                f.fingerprint: f
                for f in s.scalars(
                    select(Finding).where(
                        Finding.customer_tenant_id.is_(None) if partner_level  # type: ignore[union-attr]
                        else Finding.customer_tenant_id.in_(customers)  # type: ignore[union-attr]
                    )
                )
            }
            for tenant in customers:
                scope_status = (statuses if partner_level else statuses[tenant])  # type: ignore[index]
                snapshot = CustomerSnapshot(
                    tenant_id=tenant, records=group_records(records.get(tenant, ())),
                    statuses=scope_status, errors=errors,
                )
                snapshot.links = derive_links(snapshot)
                snapshot.link_states = track_links(snapshot, stored_links.get(tenant, ()), ctx)
                snapshot.expectations = expand(ctx.expectations.get(tenant, ()), snapshot, ctx)
                for rule in self.rules:
                    if not _evaluable(rule, snapshot):
                        outcome.not_evaluated += 1
                        continue
                    candidates = list(rule.evaluate(snapshot, ctx))
                    self._reconcile(s, ctx, outcome, rule, tenant or None, snapshot.name,
                                    candidates, existing)
                _save_links(s, snapshot.link_states)
                if tenant:
                    outcome.coverage.add(snapshot, ctx)

    def _reconcile(
        self, s: Session, ctx: AuditContext, outcome: AuditOutcome, rule: Rule,
        customer: str | None, customer_name: str, candidates: Iterable[Candidate],
        existing: dict[str, Finding],
    ) -> None:
        now, run_id = ctx.now, ctx.run_id
        seen: set[str] = set()
        for cand in candidates:
            fp = fingerprint(cand.rule, ctx.partner_key, cand.customer_tenant_id,
                             cand.link_kind, cand.link_id)
            seen.add(fp)
            if cand.verdict is Verdict.UNKNOWN:
                continue
            finding = existing.get(fp)
            target = FindingStatus.OPEN if cand.confirmed else FindingStatus.PENDING
            if finding is None:
                finding = Finding(
                    fingerprint=fp, rule=cand.rule, status=target, first_seen=now,
                    last_seen=now, hits=1, clears=0, last_run_id=run_id,
                    **_content(rule, cand, customer_name),
                )
                s.add(finding)
                existing[fp] = finding
                _event(s, fp, run_id, now, None, target)
                (outcome.new if target is FindingStatus.OPEN else outcome.pending).append(fp)
                continue
            for key, value in _content(rule, cand, customer_name).items():
                setattr(finding, key, value)
            if finding.last_run_id == run_id and finding.status != FindingStatus.RESOLVED:
                continue  # this run was already counted
            finding.last_seen = now
            finding.last_run_id = run_id
            finding.clears = 0
            if finding.status == FindingStatus.RESOLVED:
                finding.status, finding.resolved_at, finding.hits = target, None, 1
                _event(s, fp, run_id, now, FindingStatus.RESOLVED, target, "reopened")
                (outcome.new if target is FindingStatus.OPEN else outcome.pending).append(fp)
                continue
            finding.hits += 1
            if finding.status == FindingStatus.PENDING and target is FindingStatus.OPEN:
                finding.status = FindingStatus.OPEN
                _event(s, fp, run_id, now, FindingStatus.PENDING, FindingStatus.OPEN, "confirmed")
                outcome.new.append(fp)
            elif (finding.status == FindingStatus.SNOOZED and finding.until is not None
                  and finding.until <= now):
                finding.status, finding.until = FindingStatus.OPEN, None
                _event(s, fp, run_id, now, FindingStatus.SNOOZED, FindingStatus.OPEN,
                       "snooze ended")
            else:
                outcome.ongoing += 1
        for fp, finding in existing.items():
            if (fp in seen or finding.rule != rule.meta.id
                    or finding.customer_tenant_id != customer
                    or finding.status not in ACTIVE_STATUSES or finding.last_run_id == run_id):
                continue
            finding.last_run_id = run_id
            old = finding.status
            if old == FindingStatus.PENDING:
                finding.status, finding.resolved_at = FindingStatus.RESOLVED, now
                _event(s, fp, run_id, now, old, FindingStatus.RESOLVED,
                       "withdrawn before it was confirmed")
                continue
            finding.clears += 1
            if finding.clears >= ctx.resolve_after_runs:
                finding.status, finding.resolved_at = FindingStatus.RESOLVED, now
                _event(s, fp, run_id, now, old, FindingStatus.RESOLVED)
                outcome.resolved.append(fp)


def _evaluable(rule: Rule, snapshot: CustomerSnapshot) -> bool:
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


def _event(s: Session, fp: str, run_id: int, now: datetime, old: str | None, new: str,
           note: str | None = None) -> None:
    s.add(FindingEvent(fingerprint=fp, run_id=run_id, at=now, from_status=old,
                       to_status=new, note=note))


def _state(link: Link) -> LinkState:
    return LinkState(
        key=link.link_key, kind=link.kind, customer_tenant_id=link.customer_tenant_id,
        workload=link.workload, holder=link.holder, ref=link.identity or "",
        source=link.source, first_seen_at=link.first_seen_at, last_seen_at=link.last_seen_at,
        last_seen_run_id=link.last_seen_run_id, missing_runs=link.missing_runs,
        last_counted_run_id=link.last_counted_run_id, cause=link.cause,
        detail=json.loads(link.detail or "{}"),
    )


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
            row = Link(link_key=st.key, kind=st.kind, customer_tenant_id=st.customer_tenant_id,
                       workload=st.workload, holder=st.holder, identity=st.ref,
                       source=st.source, first_seen_at=st.first_seen_at,
                       last_seen_at=st.last_seen_at, last_seen_run_id=st.last_seen_run_id)
            s.add(row)
        row.last_seen_at = st.last_seen_at
        row.last_seen_run_id = st.last_seen_run_id
        row.missing_runs = st.missing_runs
        row.last_counted_run_id = st.last_counted_run_id
        row.cause = st.cause
        row.detail = json.dumps(st.detail, sort_keys=True, default=str)

