"""What a rule sees: one customer's current observations, the run's read statuses, the links
derived from them, their presence history, and the partner's expectations.

Everything here is plain data and pure functions; the engine builds it from the store.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, TypeVar

from agent.audit.anomaly import Anomaly
from agent.recognition.load import shipped_rulebook
from agent.recognition.model import Rulebook
from agent.store.models import SETTLED_SCOPE
from agent.store.values import LinkState
from connectors.records.attribution import Attribution
from connectors.records.azure import AzureSubscription, AzureUsage
from connectors.records.customers import Contract, CspSubscription, Customer
from connectors.records.gdap import GdapRelationship, GdapStatus
from connectors.records.licences import ActiveUsers, SubscribedSku
from connectors.records.links import LinkKind
from connectors.records.pal import Identity, PalLink
from connectors.records.record import Record
from connectors.records.scope import ScopeKind, Source, scope_for
from connectors.sources import SOURCES

PARTNER_SCOPED = frozenset(row.source for row in SOURCES if row.scope_kind is ScopeKind.PARTNER)
SELF = "self"
"""Holder of links that are ours by construction (our CSP customer list, our GDAP)."""
TENANT = "tenant"
"""The workload of links that concern the whole customer (CSP relationship, GDAP)."""

R = TypeVar("R", bound=Record)
_SETTLED = frozenset(str(status) for status in SETTLED_SCOPE)


@dataclass(frozen=True, slots=True)
class Expectation:
    """Where the partner expects its own link."""

    customer_tenant_id: str
    workload: str
    kind: LinkKind
    origin: str
    """``file`` (the managed-customers file) or ``default`` (domain.md defaults)."""


@dataclass(frozen=True, slots=True)
class AuditContext:
    """Partner-wide facts and thresholds; identical for every customer of one audit."""

    partner_tenant_id: str
    global_partner_id: str | None
    location_ids: frozenset[str]
    ids_for_kind: Mapping[str, frozenset[str]]
    now: datetime
    run_id: int
    disappeared_after_runs: int = 2
    resolve_after_runs: int = 2
    open_after_runs: int = 1
    """Consecutive evaluated runs a condition must be seen before its finding opens (R4); 1 opens
    at once. ``link_disappeared`` counts its own runs (``disappeared_after_runs``)."""
    gdap_expiry_lead_days: int = 30
    credential_expiry_lead_days: int = 30
    expectations: Mapping[str, tuple[Expectation, ...]] = field(default_factory=dict)
    expect_pal_on_azure: bool = True
    identities: tuple[str, ...] = ("partner-app",)
    """Identities the agent reads PAL as."""
    mass_disappearance_percent: float = 20.0
    """R6: more than this share of the known links of one kind vanishing in one run is an
    anomaly (see agent.audit.anomaly for the minimum count)."""
    anomalies: tuple[Anomaly, ...] = ()
    """Filled in by the engine from its first pass over the estate; empty in a calm run."""
    rulebook: Rulebook = field(default_factory=shipped_rulebook)
    """The recognition rules in force: the shipped rulebook, or merged with the partner's
    ``[recognition] rulebook_file``."""

    def anomaly_for(self, kind: str, source: str) -> Anomaly | None:
        """The anomaly of this run that makes a link of this kind and source doubtful."""
        return next((a for a in self.anomalies if a.touches(kind, source)), None)

    @property
    def partner_key(self) -> str:
        return self.global_partner_id or self.partner_tenant_id

    @property
    def our_ids(self) -> frozenset[str]:
        ids = set(self.location_ids)
        if self.global_partner_id:
            ids.add(self.global_partner_id)
        return frozenset(ids)

    def ours(self, holder: str | None) -> bool:
        return holder == SELF or (holder is not None and holder in self.our_ids)

    def right_ids(self, kind: str) -> frozenset[str]:
        return self.ids_for_kind.get(kind) or self.location_ids


@dataclass(frozen=True, slots=True)
class DerivedLink:
    """A link as today's observations show it."""

    kind: LinkKind
    customer_tenant_id: str
    workload: str
    holder: str | None
    ref: str
    """What carries it: an identity (PAL), a relationship id (GDAP), ``microsoft`` (reports)."""
    source: Source
    detail: Mapping[str, Any] = field(default_factory=dict)
    fresh: bool = True
    """Read completely in this run; a stale link is last-known data from an earlier run."""

    @property
    def key(self) -> str:
        return "|".join(
            (self.kind, self.customer_tenant_id, self.workload, self.holder or "-", self.ref)
        )


@dataclass(slots=True)
class CustomerSnapshot:
    """One customer's world for the rules."""

    tenant_id: str
    records: dict[str, list[Record]]
    statuses: Mapping[tuple[str, str], str]
    """(source, scope) → status of this run, for this customer's scopes and the partner scope."""
    errors: Mapping[tuple[str, str], str] = field(default_factory=dict)
    links: list[DerivedLink] = field(default_factory=list)
    link_states: list[LinkState] = field(default_factory=list)
    expectations: tuple[Expectation, ...] = ()

    def of(self, cls: type[R]) -> list[R]:
        return [r for r in self.records.get(cls.KIND, ()) if isinstance(r, cls)]

    @property
    def name(self) -> str:
        names = [c.name for c in self.of(Customer)]
        names += [c.display_name for c in self.of(Contract) if c.display_name]
        names += [r.customer_name for r in self.of(GdapRelationship) if r.customer_name]
        return next((n for n in names if n), self.tenant_id)

    def status(self, source: Source, identity: str | None = None) -> str | None:
        scope = "partner" if source in PARTNER_SCOPED else scope_for(self.tenant_id, identity)
        return self.statuses.get((source.value, scope))

    def complete(self, source: Source, identity: str | None = None) -> bool:
        """Whether the scope's observations are its current state: read completely in this
        run, or carried from such a read because the change feed shows no change since."""
        return self.status(source, identity) in _SETTLED

    def read_now(self, source: Source, identity: str | None = None) -> bool:
        """Whether this run read the scope completely itself: only such a read proves a link
        gone (a carried scope repeats an earlier read, it is no new evidence)."""
        return self.status(source, identity) == "complete"

    def failures(self) -> list[tuple[str, str, str, str]]:
        """(source, scope, status, error) of every read of this run that did not complete."""
        return [
            (src, scope, st, self.errors.get((src, scope), ""))
            for (src, scope), st in sorted(self.statuses.items())
            if st not in _SETTLED
        ]

    def identity(self, name: str) -> Identity | None:
        return next((i for i in self.of(Identity) if i.identity == name), None)

    def reachable_subscriptions(self, identities: Iterable[str]) -> set[str]:
        """Azure subscriptions any of our identities can reach."""
        wanted = set(identities)
        subs = {s.subscription_id for s in self.of(AzureSubscription)}
        for pal in self.of(PalLink):
            if pal.identity in wanted:
                subs.update(pal.subscriptions)
        return subs

    def stake(self, workload: str) -> dict[str, Any]:
        """What rides on a workload: ACR (USD/month), MAU, seats, as far as the data shows."""
        out: dict[str, Any] = {}
        if workload.startswith("azure:"):
            sub = workload.split(":", 1)[1]
            acr = [
                u.usd_total_cost
                for u in self.of(AzureUsage)
                if u.resource_id == sub and u.usd_total_cost is not None
            ]
            acr += [
                a.acr_usd
                for a in self.of(Attribution)
                if a.workload == workload and a.acr_usd is not None
            ]
            if acr:
                out["acr_usd"] = max(acr)
        elif workload in ("m365", TENANT):
            mau = [a.active_users for a in self.of(ActiveUsers) if a.workload == "office365"]
            mau += [
                a.monthly_active_users
                for a in self.of(Attribution)
                if a.workload == "m365" and a.monthly_active_users is not None
            ]
            if mau:
                out["mau"] = max(mau)
            seats = sum(s.enabled_units for s in self.of(SubscribedSku))
            if seats:
                out["seats"] = seats
        if workload == TENANT:
            total = sum(u.usd_total_cost or 0.0 for u in self.of(AzureUsage))
            if total:
                out["acr_usd"] = total
        return out


def stake_value(stake: Mapping[str, Any]) -> float:
    """One number to sort findings by: Azure revenue first, then active users, then seats."""
    return float(stake.get("acr_usd") or stake.get("mau") or stake.get("seats") or 0.0)


# ---------------------------------------------------------------------------------------------
# Links


SEAT: dict[str, tuple[LinkKind, ...]] = {
    LinkKind.DPOR: (LinkKind.DPOR, LinkKind.CPOR),
    LinkKind.CPOR: (LinkKind.CPOR, LinkKind.DPOR),
    LinkKind.PAL: (LinkKind.PAL,),
    LinkKind.CSP: (LinkKind.CSP, LinkKind.INDIRECT_RESELLER),
    LinkKind.INDIRECT_RESELLER: (LinkKind.INDIRECT_RESELLER, LinkKind.CSP),
    LinkKind.GDAP: (LinkKind.GDAP,),
}
"""Link kinds that compete for the same recognition on a workload."""

_REPORT_KINDS = {
    "DPOR": LinkKind.DPOR,
    "CPOR": LinkKind.CPOR,
    "PAL": LinkKind.PAL,
    "CSP": LinkKind.CSP,
    "TPOR": LinkKind.CSP,
    "RESELLER": LinkKind.CSP,
}
_PRESENT_GDAP = frozenset({GdapStatus.ACTIVE, GdapStatus.EXPIRING})


def derive_links(snapshot: CustomerSnapshot) -> list[DerivedLink]:
    """Every link today's observations show for the customer."""
    tenant = snapshot.tenant_id
    links: list[DerivedLink] = []
    for customer in snapshot.of(Customer):
        if customer.relationship == "reseller":
            links.append(
                DerivedLink(
                    LinkKind.CSP, tenant, TENANT, SELF, "partner-center", Source.PC_CUSTOMERS
                )
            )
        if customer.associated_partner_id:
            links.append(
                DerivedLink(
                    LinkKind.INDIRECT_RESELLER,
                    tenant,
                    TENANT,
                    customer.associated_partner_id,
                    "partner-center",
                    Source.PC_CUSTOMERS,
                )
            )
    for sub in snapshot.of(CspSubscription):
        if sub.partner_id and sub.status in ("active", None):
            links.append(
                DerivedLink(
                    LinkKind.INDIRECT_RESELLER,
                    tenant,
                    f"csp:{sub.key}",
                    sub.partner_id,
                    "partner-center",
                    Source.PC_SUBSCRIPTIONS,
                    {"offer": sub.offer_name},
                )
            )
    for rel in snapshot.of(GdapRelationship):
        if rel.status in _PRESENT_GDAP:
            links.append(
                DerivedLink(
                    LinkKind.GDAP,
                    tenant,
                    TENANT,
                    SELF,
                    rel.relationship_id,
                    Source.GRAPH_GDAP,
                    {
                        "ends": rel.ends.isoformat() if rel.ends else None,
                        "display_name": rel.display_name,
                    },
                )
            )
    for pal in snapshot.of(PalLink):
        if not pal.partner_id:
            continue
        for reach in pal.subscriptions or ("*",):
            workload = f"azure:{reach}" if reach != "*" else "azure"
            links.append(
                DerivedLink(
                    LinkKind.PAL, tenant, workload, pal.partner_id, pal.identity, Source.ARM_PAL
                )
            )
    for row in snapshot.of(Attribution):
        kind = _REPORT_KINDS.get(row.attribution_type.upper())
        if kind is None or not row.partner_id:
            continue
        links.append(
            DerivedLink(
                kind,
                tenant,
                row.workload,
                row.partner_id,
                "microsoft",
                Source.INSIGHTS,
                {"month": row.month},
            )
        )
    unique: dict[str, DerivedLink] = {}
    for link in links:
        identity = link.ref if link.source is Source.ARM_PAL else None
        fresh = snapshot.complete(link.source, identity)
        unique[link.key] = link if fresh else replace(link, fresh=False)
    return list(unique.values())


def absence_proven(state: LinkState, snapshot: CustomerSnapshot) -> bool:
    """Whether this run's complete, authenticated reads prove the link is gone (trust rules)."""
    source = Source(state.source)
    if source is Source.ARM_PAL:
        if snapshot.read_now(Source.ARM_PAL, state.ref):
            return True
        # A PAL cannot outlive its identity: a complete read of the tenant's identities that
        # no longer shows it (or shows it disabled) proves the link gone too.
        if snapshot.read_now(Source.GRAPH_IDENTITIES):
            ident = snapshot.identity(state.ref)
            return ident is None or not ident.enabled
        return False
    if source is Source.GRAPH_GDAP and any(
        r.relationship_id == state.ref and r.status is GdapStatus.UNKNOWN
        for r in snapshot.of(GdapRelationship)
    ):
        return False  # an unrecognised status is not an absence (R3)
    return snapshot.read_now(source)


def likely_cause(state: LinkState, snapshot: CustomerSnapshot, ctx: AuditContext) -> str:
    """The cause of a disappearance where the data shows one (domain.md)."""
    kind = state.kind
    if kind == LinkKind.PAL and state.source == Source.ARM_PAL:
        ident = snapshot.identity(state.ref)
        if snapshot.complete(Source.GRAPH_IDENTITIES):
            if ident is None:
                return f"identity {state.ref} was deleted from the customer tenant"
            if not ident.enabled:
                return f"identity {state.ref} was disabled"
        pal = next((p for p in snapshot.of(PalLink) if p.identity == state.ref), None)
        if pal is not None:
            if pal.partner_id is None:
                return f"the Partner Admin Link of {state.ref} was removed"
            if pal.partner_id != state.holder:
                return f"{state.ref} now links partner ID {pal.partner_id}"
            sub = state.workload.split(":", 1)[1] if ":" in state.workload else ""
            if sub and sub not in pal.subscriptions:
                return f"{state.ref} lost its role on subscription {sub}"
        if not _has_active_gdap(snapshot) and snapshot.complete(Source.GRAPH_GDAP):
            return "the GDAP relationship with the customer ended"
        return "the link is no longer reported"
    if kind == LinkKind.GDAP:
        rel = next(
            (r for r in snapshot.of(GdapRelationship) if r.relationship_id == state.ref), None
        )
        if rel is None:
            return "the relationship no longer exists"
        return f"the relationship is {rel.raw_status or rel.status}"
    if kind in (LinkKind.CSP, LinkKind.INDIRECT_RESELLER) and not snapshot.of(Customer):
        return "the customer relationship was removed in Partner Center"
    others = [
        link
        for link in snapshot.links
        if link.kind in SEAT.get(kind, (kind,))
        and link.workload == state.workload
        and not ctx.ours(link.holder)
    ]
    if others:
        return f"now attributed to partner ID {others[0].holder} ({others[0].kind.upper()})"
    return "no longer in the data"


def _has_active_gdap(snapshot: CustomerSnapshot) -> bool:
    return any(r.status in _PRESENT_GDAP for r in snapshot.of(GdapRelationship))


def track_links(
    snapshot: CustomerSnapshot, states: Iterable[LinkState], ctx: AuditContext
) -> list[LinkState]:
    """Advance each stored link's presence count with this run's derived links.

    A link seen now resets to zero missing runs. A link not seen advances by one only when
    this run proves it absent, once per run; otherwise it stays as it was (R4). A miss counted
    while a source anomaly touches the link is marked as held (R6).
    """
    by_key = {s.key: s for s in states}
    derived = {link.key: link for link in snapshot.links}
    for key, link in derived.items():
        state = by_key.get(key)
        if state is None:
            by_key[key] = LinkState(
                key=key,
                kind=link.kind,
                customer_tenant_id=link.customer_tenant_id,
                workload=link.workload,
                holder=link.holder,
                ref=link.ref,
                source=link.source.value,
                first_seen_at=ctx.now,
                last_seen_at=ctx.now,
                last_seen_run_id=ctx.run_id,
                detail=dict(link.detail),
                dirty=True,
            )
        elif link.fresh:
            state.last_seen_at = ctx.now
            state.last_seen_run_id = ctx.run_id
            state.missing_runs = 0
            state.last_counted_run_id = None
            state.cause = None
            state.held_run_id = None
            state.detail = dict(link.detail)
            state.dirty = True
    for key, state in by_key.items():
        seen = derived.get(key)
        if seen is not None and seen.fresh:
            continue
        if state.last_counted_run_id == ctx.run_id or state.last_seen_run_id >= ctx.run_id:
            continue  # this run is already counted
        if absence_proven(state, snapshot):
            state.missing_runs += 1
            state.last_counted_run_id = ctx.run_id
            state.cause = likely_cause(state, snapshot, ctx)
            held = ctx.anomaly_for(state.kind, state.source) is not None
            state.held_run_id = ctx.run_id if held else None
            state.dirty = True
    return list(by_key.values())


# ---------------------------------------------------------------------------------------------
# Expectations


def default_expectations(snapshot: CustomerSnapshot, ctx: AuditContext) -> list[Expectation]:
    """domain.md defaults: a customer with an active GDAP or a CSP relationship with us is
    expected to carry our PAL on every Azure subscription our identities can reach."""
    if not ctx.expect_pal_on_azure:
        return []
    served = _has_active_gdap(snapshot) or any(
        c.relationship == "reseller" for c in snapshot.of(Customer)
    )
    if not served:
        return []
    return [
        Expectation(snapshot.tenant_id, f"azure:{sub}", LinkKind.PAL, "default")
        for sub in sorted(snapshot.reachable_subscriptions(ctx.identities))
    ]


def expand(
    expectations: Iterable[Expectation], snapshot: CustomerSnapshot, ctx: AuditContext
) -> tuple[Expectation, ...]:
    """File expectations on workload ``azure`` become one per known Azure subscription; the
    defaults fill in where the file is silent."""
    out: dict[tuple[str, str], Expectation] = {}
    for exp in expectations:
        if exp.workload == "azure":
            subs = snapshot.reachable_subscriptions(ctx.identities) | {
                a.workload.split(":", 1)[1]
                for a in snapshot.of(Attribution)
                if a.workload.startswith("azure:")
            }
            for sub in sorted(subs):
                out[(f"azure:{sub}", exp.kind)] = Expectation(
                    exp.customer_tenant_id, f"azure:{sub}", exp.kind, exp.origin
                )
        else:
            out[(exp.workload, exp.kind)] = exp
    for exp in default_expectations(snapshot, ctx):
        out.setdefault((exp.workload, exp.kind), exp)
    return tuple(out.values())


def group_records(records: Iterable[Record]) -> dict[str, list[Record]]:
    grouped: dict[str, list[Record]] = defaultdict(list)
    for record in records:
        grouped[record.KIND].append(record)
    return grouped
