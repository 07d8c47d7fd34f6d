"""Hand-built snapshots for the rule tests: one healthy customer, and the few steps the engine
takes before it runs a rule (derive links, track their presence, expand expectations)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta

import pytest

from agent.audit.context import AuditContext
from agent.audit.derive import derive_links
from agent.audit.engine import evaluable as engine_evaluable
from agent.audit.expected import expand
from agent.audit.link import Expectation
from agent.audit.model import Candidate, Rule, Verdict, fingerprint
from agent.audit.presence import track_links
from agent.audit.snapshot import PARTNER_SCOPED, CustomerSnapshot, group_records
from agent.store.values import LinkState
from connectors.records.attribution import Attribution
from connectors.records.azure import AzureSubscription
from connectors.records.customers import Customer
from connectors.records.gdap import GdapRelationship, GdapStatus
from connectors.records.links import LinkKind
from connectors.records.pal import Identity, PalLink
from connectors.records.record import Record
from connectors.records.scope import Source, scope_for

TENANT = "c0000000-0000-4000-8000-000000000001"
PARTNER_TENANT = "7a11ce00-0000-4000-8000-000000000001"
SUB = "50000001-0000-4000-8000-000000000001"
GLOBAL_ID = "4100001"
HQ = "4100002"
"""Location meant for every link kind."""
TRAINING = "4100003"
"""Location meant for CPOR only."""
AZURE_PRACTICE = "4100004"
"""Location meant for PAL only."""
OTHER = "5200001"
"""Another partner's ID."""
APP = "partner-app"
CARRIER = "pal-carrier-ops"
READER_ROLE = "88d8e3e3-8f55-4a1e-953a-9b9898b8876b"
NOW = datetime(2026, 11, 15, 2, 0, tzinfo=UTC)
RUN = 10


def make_context(
    *,
    run_id: int = RUN,
    now: datetime = NOW,
    identities: tuple[str, ...] = (APP,),
    **overrides: object,
) -> AuditContext:
    """The partner of the tests: a global ID and three locations with different purposes."""
    meant = {
        "pal": frozenset({HQ, AZURE_PRACTICE}),
        "cpor": frozenset({HQ, TRAINING}),
        "dpor": frozenset({HQ}),
        "csp": frozenset({HQ}),
        "indirect_reseller": frozenset({HQ}),
        "gdap": frozenset({HQ}),
    }
    return AuditContext(
        partner_tenant_id=PARTNER_TENANT,
        global_partner_id=GLOBAL_ID,
        location_ids=frozenset({HQ, TRAINING, AZURE_PRACTICE}),
        ids_for_kind=meant,
        now=now,
        run_id=run_id,
        identities=identities,
        **overrides,  # type: ignore[arg-type]
    )


def key(source: Source, identity: str | None = None, tenant: str = TENANT) -> tuple[str, str]:
    """The (source, scope) key of a read status, as the sync records it."""
    if source in PARTNER_SCOPED:
        return (source.value, "partner")
    return (source.value, scope_for(tenant, identity))


def all_complete(
    tenant: str = TENANT, identities: Iterable[str] = (APP,)
) -> dict[tuple[str, str], str]:
    """Every source read completely: the partner scope, the customer, and PAL per identity."""
    statuses: dict[tuple[str, str], str] = {}
    for source in Source:
        if source in PARTNER_SCOPED:
            statuses[key(source)] = "complete"
        elif source is Source.ARM_PAL:
            for identity in identities:
                statuses[key(source, identity, tenant)] = "complete"
        else:
            statuses[key(source, tenant=tenant)] = "complete"
    return statuses


def with_status(
    statuses: Mapping[tuple[str, str], str], changes: Mapping[tuple[str, str], str]
) -> dict[tuple[str, str], str]:
    return {**statuses, **changes}


def gdap(
    *,
    rel_id: str = "rel-1",
    status: GdapStatus = GdapStatus.ACTIVE,
    ends_in: timedelta | None,
    auto_extend: str = "P180D",
    roles: tuple[str, ...] = (READER_ROLE,),
    raw: str | None = None,
) -> GdapRelationship:
    return GdapRelationship(
        relationship_id=rel_id,
        customer_tenant_id=TENANT,
        customer_name="Alpine Dairy Co-op",
        display_name="Managed services",
        status=status,
        raw_status=raw or status.value,
        roles=roles,
        auto_extend_duration=auto_extend,
        activated=NOW - timedelta(days=230),
        ends=None if ends_in is None else NOW + ends_in,
    )


def healthy_records(*, pal_partner: str | None = HQ, cpor_partner: str | None = HQ) -> list[Record]:
    """A customer in good order: CSP and active GDAP with us, our PAL on its one Azure
    subscription, our CPOR on Microsoft 365."""
    records: list[Record] = [
        Customer(tenant_id=TENANT, name="Alpine Dairy Co-op", relationship="reseller"),
        gdap(ends_in=timedelta(days=500)),
        AzureSubscription(customer_tenant_id=TENANT, subscription_id=SUB, display_name="prod"),
        Identity(
            customer_tenant_id=TENANT,
            identity=APP,
            object_id="0b000001-0000-4000-8000-000000000001",
        ),
        PalLink(
            customer_tenant_id=TENANT, identity=APP, partner_id=pal_partner, subscriptions=(SUB,)
        ),
    ]
    if cpor_partner is not None:
        records.append(
            Attribution(
                customer_tenant_id=TENANT,
                workload="m365",
                attribution_type="CPOR",
                partner_id=cpor_partner,
                monthly_active_users=120,
            )
        )
    return records


def file_expectations(*kinds_on: tuple[LinkKind, str]) -> tuple[Expectation, ...]:
    return tuple(Expectation(TENANT, workload, kind, "file") for kind, workload in kinds_on)


CPOR_ON_M365 = file_expectations((LinkKind.CPOR, "m365"))


def build_snapshot(
    records: Iterable[Record],
    ctx: AuditContext,
    *,
    statuses: Mapping[tuple[str, str], str] | None = None,
    errors: Mapping[tuple[str, str], str] | None = None,
    states: Iterable[LinkState] = (),
    expectations: Iterable[Expectation] = CPOR_ON_M365,
    tenant: str = TENANT,
) -> CustomerSnapshot:
    """A snapshot prepared the way the engine prepares it before running the rules."""
    snapshot = CustomerSnapshot(
        tenant_id=tenant,
        records=group_records(records),
        statuses=dict(statuses if statuses is not None else all_complete(tenant, ctx.identities)),
        errors=dict(errors or {}),
    )
    snapshot.links = derive_links(snapshot)
    snapshot.link_states = track_links(snapshot, [dataclasses.replace(s) for s in states], ctx)
    snapshot.expectations = expand(expectations, snapshot, ctx)
    return snapshot


class Runs:
    """Consecutive audits of one customer, carrying the link states from run to run like the
    store does (each run gets copies, as if read back from the database)."""

    def __init__(self, *, first_run: int = RUN, k: int = 2, identities: tuple[str, ...] = (APP,)):
        self.run_id = first_run - 1
        self.k = k
        self.identities = identities
        self.states: list[LinkState] = []

    def next(
        self,
        records: Iterable[Record],
        *,
        statuses: Mapping[tuple[str, str], str] | None = None,
        expectations: Iterable[Expectation] = CPOR_ON_M365,
        same_run: bool = False,
        **context: object,
    ) -> tuple[CustomerSnapshot, AuditContext]:
        if not same_run:
            self.run_id += 1
        ctx = make_context(
            run_id=self.run_id,
            now=NOW + timedelta(days=self.run_id - RUN),
            identities=self.identities,
            disappeared_after_runs=self.k,
            **context,
        )
        snapshot = build_snapshot(
            records, ctx, statuses=statuses, states=self.states, expectations=expectations
        )
        self.states = snapshot.link_states
        return snapshot, ctx

    def state(self, kind: LinkKind, ref: str) -> LinkState:
        return next(s for s in self.states if s.kind == kind and s.ref == ref)


def evaluated(rule: Rule, snapshot: CustomerSnapshot) -> bool:
    """Whether the engine would run the rule on this snapshot at all (its required sources)."""
    return engine_evaluable(rule, snapshot)


def evaluate(rule: Rule, snapshot: CustomerSnapshot, ctx: AuditContext) -> list[Candidate]:
    return list(rule.evaluate(snapshot, ctx))


def firing(rule: Rule, snapshot: CustomerSnapshot, ctx: AuditContext) -> list[Candidate]:
    """Only the candidates that fire (``unknown`` ones leave findings as they are)."""
    return [c for c in rule.evaluate(snapshot, ctx) if c.verdict is Verdict.FIRING]


def unknown(rule: Rule, snapshot: CustomerSnapshot, ctx: AuditContext) -> list[Candidate]:
    return [c for c in rule.evaluate(snapshot, ctx) if c.verdict is Verdict.UNKNOWN]


def fingerprints(candidates: Iterable[Candidate], ctx: AuditContext) -> list[str]:
    return [
        fingerprint(c.rule, ctx.partner_key, c.customer_tenant_id, c.link_kind, c.link_id)
        for c in candidates
    ]


@pytest.fixture
def ctx() -> AuditContext:
    return make_context()
