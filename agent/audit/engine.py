"""The audit engine: builds each customer's snapshot, runs the rules, hands each finding's
previous state and this run's evaluation to the lifecycle decision, and writes its result
through the repository (one event row per status change).

Customers are audited in batches, so memory follows the batch, not the estate. A first pass
over every batch only counts link transitions per kind (the mass-disappearance guard needs the
whole estate's figures before any finding is written); the second pass runs the rules. A rule
whose required sources were not read completely for a customer is not evaluated there, and its
findings stay exactly as they were; so does every finding a rule marks ``unknown``. Counts that
decide opening and resolving (``hits``, ``clears``) therefore move only on evaluated runs, and
live in the database, so they survive restarts. Each batch also keeps its customers' credit
lines (``agent.audit.credit_lines``); the view is marked whole when the last batch is written.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, replace
from datetime import datetime

import structlog

from agent.audit.anomaly import Anomaly, LinkTally, source_anomalies
from agent.audit.blind import BlindSpot, blind_spots
from agent.audit.condition import condition_of
from agent.audit.context import AuditContext
from agent.audit.credit_lines import CreditKeeper
from agent.audit.derive import derive_links
from agent.audit.expected import expand
from agent.audit.lifecycle import Evaluation, LifecyclePolicy, Observed, decide
from agent.audit.model import Candidate, Rule, Verdict, fingerprint
from agent.audit.outcome import AuditOutcome, add_readable
from agent.audit.presence import track_links
from agent.audit.rules import RULES
from agent.audit.snapshot import PARTNER_SCOPED, CustomerSnapshot, group_records
from agent.store import (
    CreditFilter,
    FindingContent,
    LinkState,
    Store,
    StoredCredit,
    Transaction,
)
from agent.store.models import SETTLED_SCOPE, SourceStatus, SyncRun
from agent.store.repository import FindingBook
from connectors.records.attribution import Attribution
from connectors.records.customers import CspSubscription, Customer
from connectors.records.gdap import GdapRelationship
from connectors.records.pal import Identity, PalLink
from connectors.records.record import Record

log = structlog.get_logger("partnerlink.audit")
SETTLED = frozenset(str(status) for status in SETTLED_SCOPE)

_LINK_RECORDS = tuple(
    cls.KIND
    for cls in (Customer, CspSubscription, GdapRelationship, PalLink, Attribution, Identity)
)
"""What deriving links and proving them absent reads: all the first pass loads."""


class NothingToAudit(Exception):
    """No finished sync run exists yet."""


ContextFactory = Callable[[datetime, int], AuditContext]
AfterAudit = Callable[[Transaction, int, datetime], object]


class Auditor:
    def __init__(
        self,
        store: Store,
        context: ContextFactory,
        *,
        clock: Callable[[], datetime],
        rules: Sequence[Rule] = RULES,
        batch: int = 500,
        after: AfterAudit | None = None,
    ) -> None:
        self.store = store
        self.context = context
        self.clock = clock
        self.rules = rules
        self.batch = batch
        self.after = after
        """Runs in the transaction that marks the run audited: the alert outbox."""

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
        # The customers the credit view shows: those with current observations or reads.
        viewed = set(self.store.known_customers()) | {
            v.customer_tenant_id for v in statuses.values() if v.customer_tenant_id
        }
        customers = sorted(
            viewed | set(ctx.expectations) | self.store.customers_with_active_findings()
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
        ctx = replace(ctx, anomalies=tuple(anomalies), blind_spots=self._blind_spots(statuses))
        outcome.anomalies = anomalies
        for anomaly in anomalies:
            log.warning("source_anomaly", run_id=run.id, **anomaly.as_dict())

        keeper = CreditKeeper(ctx, run.id, viewed)
        with self.store.transaction() as tx:
            tx.forget_credit_view()
        self._audit_batch(ctx, outcome, [""], {"": partner}, errors, keeper)
        for start in range(0, len(customers), self.batch):
            chunk = customers[start : start + self.batch]
            self._audit_batch(ctx, outcome, chunk, scoped(chunk), errors, keeper)
        with self.store.transaction() as tx:
            tx.mark_credit_view(run.id, keeper.fingerprint, len(viewed), now)
            coverage = {
                **asdict(outcome.coverage),
                "shares": outcome.coverage.shares(),
                "readable": outcome.readable.as_dict(),
            }
            tx.mark_audited(run.id, now, coverage=coverage)
            if self.after is not None:
                self.after(tx, run.id, now)
        self._settle(run.id, keeper.fingerprint)
        log.info("audit_finished", run_id=run.id, **outcome.summary())
        return outcome

    def _settle(self, run_id: int, fingerprint: str) -> None:
        """The kept credit view, tidied for reading, and its summary summed once for every
        ``credit`` to read; the audit stands if either fails."""
        if not self.store.settle_credit_view():
            log.warning("credit_view_not_settled")
        from agent.recognition.summary import from_store, to_json

        def summed(kept: StoredCredit) -> str:
            return to_json(from_store(kept, CreditFilter()))

        if not self.store.keep_credit_summary(run_id, fingerprint, summed):
            log.warning("credit_summary_not_kept")

    def _anomalies(
        self,
        ctx: AuditContext,
        run: SyncRun,
        customers: list[str],
        scoped: Callable[[list[str]], dict[str, dict[tuple[str, str], str]]],
        errors: dict[tuple[str, str], str],
    ) -> list[Anomaly]:
        """First pass (the mass-disappearance guard): count, per link kind, the links known
        before this run and those this run proved gone, one batch at a time, keeping only the
        counts; and compare each source's items with the previous run's. Nothing is written."""
        assert run.id is not None
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
            *source_anomalies(self.store.source_counts(run.id)),
            *tally.anomalies(ctx.mass_disappearance_percent),
        ]

    def _blind_spots(
        self, statuses: Mapping[tuple[str, str], SourceStatus]
    ) -> tuple[BlindSpot, ...]:
        """The reads of this run that did not complete, grouped across the estate."""
        failures = [
            (source, scope, row.status, row.error or "")
            for (source, scope), row in sorted(statuses.items())
            if row.status not in SETTLED
        ]
        if not failures:
            return ()
        return blind_spots(failures, dict(self.store.customer_names()))

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
        for state in self.store.link_states(customers):
            stored[state.customer_tenant_id].append(state)
        return records, stored

    def _audit_batch(
        self,
        ctx: AuditContext,
        outcome: AuditOutcome,
        customers: list[str],
        statuses: dict[str, dict[tuple[str, str], str]],
        errors: dict[tuple[str, str], str],
        keeper: CreditKeeper,
    ) -> None:
        """Audit one batch of customers (``[""]``: the partner itself) in one transaction:
        findings moved along, link states and the batch's credit view written."""
        partner_level = customers == [""]
        records, stored = ({}, {}) if partner_level else self._load(customers)
        with self.store.transaction() as tx:
            book = tx.findings(None if partner_level else customers)
            for tenant in customers:
                snapshot = _snapshot(tenant, records.get(tenant, ()), statuses[tenant], errors)
                snapshot.skus = ctx.rulebook.skus
                snapshot.link_states = track_links(snapshot, stored.get(tenant, ()), ctx)
                snapshot.expectations = expand(ctx.expectations.get(tenant, ()), snapshot, ctx)
                for rule in self.rules:
                    if evaluable(rule, snapshot):
                        candidates = list(rule.evaluate(snapshot, ctx))
                    else:
                        outcome.not_evaluated += 1
                        candidates = None
                    _move_findings(
                        book, ctx, outcome, rule, tenant or None, snapshot.name, candidates
                    )
                tx.save_links(snapshot.link_states)
                if tenant:
                    keeper.keep(snapshot, ctx)
                    outcome.coverage.add(snapshot, ctx)
                    add_readable(outcome.readable, snapshot)
            if not partner_level:
                tx.save_credit_lines(customers, keeper.take())


def _move_findings(
    book: FindingBook,
    ctx: AuditContext,
    outcome: AuditOutcome,
    rule: Rule,
    customer: str | None,
    customer_name: str,
    candidates: Iterable[Candidate] | None,
) -> None:
    """Move this rule's findings for one customer (or the partner) one run along: each one the
    rule reports, then each one it no longer reports (``candidates`` is ``None`` when the rule
    could not be evaluated: then every finding of the rule is held as it is)."""
    policy = LifecyclePolicy(
        open_after_runs=rule.meta.open_after_runs or ctx.open_after_runs,
        resolve_after_runs=rule.meta.resolve_after_runs or ctx.resolve_after_runs,
    )
    known = book.fingerprints(rule.meta.id, customer)
    seen: set[str] = set()
    for cand in candidates or ():
        fp = fingerprint(
            cand.rule, ctx.partner_key, cand.customer_tenant_id, cand.link_kind, cand.link_id
        )
        seen.add(fp)
        unknown = cand.verdict is Verdict.UNKNOWN
        content = None if unknown else _content(rule, cand, customer_name)
        evaluation = Evaluation(
            Observed.UNKNOWN if unknown else Observed.SEEN,
            ctx.run_id,
            ctx.now,
            confirmed=cand.confirmed,
            suspect=cand.suspect,
            condition=condition_of(content.severity, content.evidence) if content else None,
        )
        _write(book, outcome, fp, evaluation, policy, content)
    absent = Observed.NOT_EVALUATED if candidates is None else Observed.CLEAR
    for fp in known:
        if fp not in seen:
            _write(book, outcome, fp, Evaluation(absent, ctx.run_id, ctx.now), policy, None)


def _write(
    book: FindingBook,
    outcome: AuditOutcome,
    fp: str,
    evaluation: Evaluation,
    policy: LifecyclePolicy,
    content: FindingContent | None,
) -> None:
    """Decide, then write what the decision says (and the refreshed content) through the
    repository; count it in the run's summary."""
    previous = book.state(fp)
    transition = decide(previous, evaluation, policy)
    if transition.state is not None and (transition.state != previous or content is not None):
        book.write(fp, transition.state, content=content, change=transition.change)
    outcome.tell(fp, transition.tally)


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


def _content(rule: Rule, cand: Candidate, customer_name: str) -> FindingContent:
    evidence = dict(cand.evidence)
    if cand.stake is not None:
        evidence["at_stake"] = cand.stake.as_dict()
    return FindingContent(
        rule=cand.rule,
        severity=str(cand.severity or rule.meta.severity),
        customer_tenant_id=cand.customer_tenant_id,
        customer_name=customer_name if cand.customer_tenant_id else None,
        subject=cand.subject[:300],
        link_kind=cand.link_kind,
        title=cand.title,
        remediation=cand.remediation or rule.meta.remediation,
        evidence=json.dumps(evidence, sort_keys=True, default=str),
        value_at_stake=cand.value_at_stake,
    )
