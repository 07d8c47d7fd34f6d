"""The readiness of one customer: every reader that reads in its tenant, tried for real.

Partner Center (its subscriptions: the relationship, and the seats; with app+user sources, its
Azure usage, which names subscriptions the app may not see), Graph in the customer's
tenant (the app's consent there, then its app role assignments against what the sources need),
ARM (the subscriptions the app sees, and each known subscription it does not: no role, or gone),
the Partner Admin Link read of every identity that covers the tenant, and the GDAP relationship.
"""

from __future__ import annotations

from datetime import UTC, datetime

from agent import readers as names
from agent.causes import Cause, CauseKind, as_identity, cause_of, fix_for
from agent.readiness.arm import arm_check
from agent.readiness.coverage import seats
from agent.readiness.model import Check, CustomerReadiness, State
from agent.readiness.permissions import CUSTOMER_NEEDS, missing, roles_of
from agent.readiness.readers import Readers
from connectors.base import PARTNER_APP, Connector
from connectors.errors import ConnectorError
from connectors.graph.assignments import granted_graph_roles
from connectors.records.azure import AzureUsage
from connectors.records.customers import CspSubscription
from connectors.records.gdap import GdapStatus
from connectors.records.scope import Source

APP = "the partner's app"
_LIVE_GDAP = frozenset({GdapStatus.ACTIVE, GdapStatus.ACTIVATING, GdapStatus.EXPIRING})
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


async def probe_customer(readers: Readers, tenant: str, name: str) -> CustomerReadiness:
    tenant = tenant.lower()
    where = f"{name}'s tenant"
    found = CustomerReadiness(tenant, name)
    found.checks.append(await _partner_center(readers, tenant, where, found))
    usage, billed = await _usage(readers, tenant, where)
    if usage is not None:
        found.checks.append(usage)
    found.checks.append(await _graph(readers, tenant, where))
    arm, visible, gone = await arm_check(readers, tenant, where, billed)
    if arm is not None:
        found.checks.append(arm)
    pal = [
        await _pal(readers, identity, c, tenant, where)
        for identity, c in readers.pal_readers(tenant)
    ]
    found.checks.extend(pal)
    if readers.gdap is not None:
        found.checks.append(_gdap(readers, tenant))
    known = set(readers.known_subscriptions.get(tenant, ())) | set(visible) | billed
    known -= set(gone)
    found.subscriptions = tuple(sorted(known))
    if all(check.state.reads for check in pal):
        found.readable_subscriptions = tuple(sorted(set(visible) & known))
    return found


async def _partner_center(
    readers: Readers, tenant: str, where: str, found: CustomerReadiness
) -> Check:
    """The customer's CSP subscriptions: the relationship holds, and how many seats."""
    connector = readers.connector(Source.PC_SUBSCRIPTIONS.value)
    found.seats = readers.stored_seats.get(tenant, 0)
    if connector is None:
        return Check.ok(names.PARTNER_CENTER, "not read (source disabled)")
    try:
        records = [r async for r in connector.fetch(tenant)]
    except ConnectorError as exc:
        return Check.failed(
            names.PARTNER_CENTER, cause_of("failed", str(exc)), who=APP, tenant=where
        )
    found.seats = seats(r for r in records if isinstance(r, CspSubscription))
    return Check.ok(names.PARTNER_CENTER, f"{found.seats:,} seats")


async def _usage(readers: Readers, tenant: str, where: str) -> tuple[Check | None, set[str]]:
    """Partner Center's Azure usage (app+user): a source of its own, and what tells of the
    subscriptions the app may hold no role on."""
    connector = readers.connector(Source.PC_USAGE.value)
    if connector is None:
        return None, set()
    try:
        records = [r async for r in connector.fetch(tenant)]
    except ConnectorError as exc:
        cause = cause_of("failed", str(exc))
        return Check.failed(names.PARTNER_CENTER_USAGE, cause, who=APP, tenant=where), set()
    billed = {r.resource_id.lower() for r in records if isinstance(r, AzureUsage)}
    return Check.ok(names.PARTNER_CENTER_USAGE, f"{len(billed)} Azure subscription(s)"), billed


async def _graph(readers: Readers, tenant: str, where: str) -> Check:
    """Consent (a token in the tenant), then the app's roles as the tenant's directory shows
    them against the roles the customer-tenant Graph sources need."""
    try:
        granted = await granted_graph_roles(
            readers.requester, readers.endpoints, tenant, readers.app_id
        )
    except ConnectorError as exc:
        cause = cause_of("failed", str(exc))
        if cause.kind is CauseKind.PERMISSION_MISSING:
            return Check(
                names.GRAPH,
                State.BLOCKED,
                CauseKind.PERMISSION_MISSING,
                "the app may not read its own permissions here: it lacks Application.Read.All, "
                "which graph.identities needs too",
                cause.code,
                _grant("Application.Read.All", where),
                ("Application.Read.All",),
            )
        return Check.failed(names.GRAPH, cause, who=APP, tenant=where)
    short = missing(granted, CUSTOMER_NEEDS)
    if not short:
        return Check.ok(names.GRAPH, f"{len(CUSTOMER_NEEDS)} sources")
    roles = roles_of(short)
    state = State.BLOCKED if len(short) == len(CUSTOMER_NEEDS) else State.PARTIAL
    return Check(
        names.GRAPH,
        state,
        CauseKind.PERMISSION_MISSING,
        f"the app lacks {', '.join(roles)} here, so {', '.join(sorted(short))} cannot be read",
        "appRoleAssignments",
        _grant(", ".join(roles), where),
        tuple(roles),
    )


def _grant(roles: str, where: str) -> str:
    return (
        f"Add the Microsoft Graph application permission(s) {roles} to the partner's app "
        f"registration, then grant admin consent again in {where} (a new consent adds them)."
    )


async def _pal(
    readers: Readers, identity: str, connector: Connector, tenant: str, where: str
) -> Check:
    """One identity's Partner Admin Link read: linked or not, both are readable."""
    reader = names.pal(identity)
    who = APP if identity == PARTNER_APP else f"carrier {identity}"
    try:
        links = [r async for r in connector.fetch(tenant)]
    except ConnectorError as exc:
        return Check.failed(
            reader, _identity_cause(readers, identity, str(exc)), who=who, tenant=where
        )
    partner = next((getattr(r, "partner_id", None) for r in links), None)
    return Check.ok(reader, f"linked to {partner}" if partner else "not linked")


def _identity_cause(readers: Readers, identity: str, error: str) -> Cause:
    """A carrier refused in a tenant: deleted or disabled when the partner tenant refuses it
    the same way; not in this tenant when only the tenant does."""
    cause = cause_of("failed", error)
    if identity == PARTNER_APP:
        return cause
    down = readers.carriers_down.get(identity)
    if down is not None and down.code == cause.code:
        return down
    return as_identity(cause, identity)


def _gdap(readers: Readers, tenant: str) -> Check:
    """The admin relationship: not a read of its own, but what a consent or a role needs."""
    relationships = (readers.gdap or {}).get(tenant, [])
    live = [r for r in relationships if r.status in _LIVE_GDAP]
    if live:
        ends = max((r.ends for r in live if r.ends), default=None)
        return Check.ok(names.GDAP, f"active until {ends:%Y-%m-%d}" if ends else "active")
    if relationships:
        ended = sorted((r for r in relationships if r.ends), key=lambda r: r.ends or _EPOCH)
        last = ended[-1] if ended else relationships[0]
        when = f" on {last.ends:%Y-%m-%d}" if last.ends else ""
        kind, words = (
            CauseKind.GDAP_ENDED,
            f"the GDAP relationship is {last.raw_status or last.status}{when}",
        )
    else:
        kind, words = CauseKind.GDAP_MISSING, "no GDAP relationship with this customer"
    return Check(
        names.GDAP,
        State.WARNING,
        kind,
        words + ": consent or roles cannot be granted through it",
        "delegatedAdminRelationships",
        fix_for(kind, who=APP, tenant=""),
    )
