"""A link's presence from run to run: whether this run proves a stored link gone, the likely
cause when it does, and each link's count of runs missing (what ``link_disappeared`` reads)."""

from __future__ import annotations

from collections.abc import Iterable

from agent.audit.context import AuditContext
from agent.audit.derive import has_active_gdap
from agent.audit.link import SEAT
from agent.audit.snapshot import CustomerSnapshot
from agent.store.values import LinkState
from connectors.records.customers import Contract, Customer
from connectors.records.gdap import GdapRelationship, GdapStatus
from connectors.records.links import LinkKind
from connectors.records.pal import PalLink
from connectors.records.scope import Source


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
        return False  # an unrecognised status is not an absence (guarantee proven-absence)
    if source is Source.PC_CUSTOMERS and not snapshot.of(Customer):
        # The customer vanished from Partner Center's list: gone only if Graph's contracts,
        # read completely, agree (guarantee corroborated-absence).
        return snapshot.read_now(source) and not relationship_disputed(snapshot)
    return snapshot.read_now(source)


def relationship_disputed(snapshot: CustomerSnapshot) -> bool:
    """Whether Graph's contracts cannot confirm that a customer missing from Partner Center's
    list is gone: they still show it, or they were not read completely."""
    return bool(snapshot.of(Contract)) or not snapshot.complete(Source.GRAPH_CONTRACTS)


def likely_cause(state: LinkState, snapshot: CustomerSnapshot, ctx: AuditContext) -> str:
    """The cause of a disappearance where the data shows one (domain.md)."""
    kind = state.kind
    if kind == LinkKind.PAL and state.source == Source.ARM_PAL:
        return _pal_cause(state, snapshot)
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


def _pal_cause(state: LinkState, snapshot: CustomerSnapshot) -> str:
    """Why a Partner Admin Link read from ARM is gone: its identity, its link, its role."""
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
    if not has_active_gdap(snapshot) and snapshot.complete(Source.GRAPH_GDAP):
        return "the GDAP relationship with the customer ended"
    return "the link is no longer reported"


def track_links(
    snapshot: CustomerSnapshot, states: Iterable[LinkState], ctx: AuditContext
) -> list[LinkState]:
    """Advance each stored link's presence count with this run's derived links.

    A link seen now resets to zero missing runs. A link not seen advances by one only when
    this run proves it absent, once per run; otherwise it stays as it was (guarantee
    confirm-k-runs). A miss counted while a source anomaly touches the link is marked as held
    (guarantee mass-loss-guard).
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
