"""The partner tenant's part of readiness: Partner Center lists the customers; Graph there holds
the roles the partner-level sources need (read from the directory) and the GDAP relationships;
the app+user refresh token redeems; each carrier signs in (a carrier its home tenant refuses is
deleted or disabled, which its reads in the customers' tenants then say)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace

from agent import readers as names
from agent.causes import Cause, CauseKind, cause_of
from agent.readiness.model import Check, State
from agent.readiness.permissions import PARTNER_NEEDS, excess, missing, roles_of
from agent.readiness.readers import Readers
from connectors.errors import ConnectorError
from connectors.graph.assignments import granted_graph_roles
from connectors.records.customers import Customer
from connectors.records.gdap import GdapRelationship
from connectors.records.scope import Source

APP = "the partner's app"
HOME = "the partner tenant"
PARTNER_CENTER_ACCESS = (
    "Add the app in Partner Center (Account settings > App management) so it may call the "
    "Partner Center API, and check its credential."
)


@dataclass(slots=True)
class PartnerFindings:
    checks: list[Check] = field(default_factory=list)
    customers: list[tuple[str, str]] | None = None
    """(tenant, name) of every Partner Center customer; ``None`` when they could not be listed."""
    gdap: dict[str, list[GdapRelationship]] | None = None
    carriers_down: dict[str, Cause] = field(default_factory=dict)


async def probe_partner(
    readers: Readers, partner_tenant: str, *, app_user: bool, carriers: list[str]
) -> PartnerFindings:
    found = PartnerFindings()
    found.checks.append(await _customers(readers, found))
    found.checks.append(await _graph(readers, partner_tenant))
    gdap = await _gdap(readers, found)
    if gdap is not None:
        found.checks.append(gdap)
    if app_user:
        found.checks.append(await _app_user(readers, partner_tenant))
    for name in carriers:
        found.checks.append(await _carrier(readers, partner_tenant, name, found))
    return found


async def _customers(readers: Readers, found: PartnerFindings) -> Check:
    connector = readers.connector(Source.PC_CUSTOMERS.value)
    if connector is None:
        return Check.ok(names.PARTNER_CENTER, "not read (source disabled)")
    try:
        records = [r async for r in connector.fetch(None)]
    except ConnectorError as exc:
        failed = Check.failed(
            names.PARTNER_CENTER, cause_of("failed", str(exc)), who=APP, tenant=HOME
        )
        if failed.cause is CauseKind.ACCESS_DENIED:
            failed = replace(failed, fix=PARTNER_CENTER_ACCESS)
        return failed
    found.customers = [
        (r.tenant_id.lower(), r.name or r.tenant_id) for r in records if isinstance(r, Customer)
    ]
    return Check.ok(names.PARTNER_CENTER, f"{len(found.customers):,} customers")


async def _graph(readers: Readers, tenant: str) -> Check:
    """The partner-level Graph sources' roles, as the partner tenant's directory shows them."""
    reader = names.GRAPH_PARTNER
    try:
        granted = await granted_graph_roles(
            readers.requester, readers.endpoints, tenant, readers.app_id
        )
    except ConnectorError as exc:
        return Check.failed(reader, cause_of("failed", str(exc)), who=APP, tenant=HOME)
    short = missing(granted, PARTNER_NEEDS)
    if short:
        roles = roles_of(short)
        return Check(
            reader,
            State.PARTIAL if len(short) < len(PARTNER_NEEDS) else State.BLOCKED,
            CauseKind.PERMISSION_MISSING,
            f"the app lacks {', '.join(roles)}, so {', '.join(sorted(short))} cannot be read",
            "appRoleAssignments",
            f"Grant the application permission(s) {', '.join(roles)} to the partner's app and "
            "give admin consent in the partner tenant.",
            tuple(roles),
        )
    writes = excess(granted)
    if writes:
        return Check(
            reader,
            State.WARNING,
            None,
            f"the app holds {', '.join(writes)}: more than a read-only agent needs",
            "appRoleAssignments",
            "Remove the permissions that can write (least privilege).",
            tuple(writes),
        )
    return Check.ok(reader, f"{len(PARTNER_NEEDS)} sources")


async def _gdap(readers: Readers, found: PartnerFindings) -> Check | None:
    connector = readers.connector(Source.GRAPH_GDAP.value)
    if connector is None:
        return None
    try:
        records = [r async for r in connector.fetch(None)]
    except ConnectorError as exc:
        return Check.failed(names.GDAP, cause_of("failed", str(exc)), who=APP, tenant=HOME)
    by_tenant: dict[str, list[GdapRelationship]] = defaultdict(list)
    for record in records:
        if isinstance(record, GdapRelationship):
            by_tenant[record.customer_tenant_id.lower()].append(record)
    found.gdap = dict(by_tenant)
    return Check.ok(names.GDAP, f"{sum(len(v) for v in by_tenant.values()):,} relationships")


async def _app_user(readers: Readers, tenant: str) -> Check:
    reader = "app+user refresh token"
    try:
        await readers.requester.tokens.token(
            tenant, readers.endpoints.partner_center_resource, identity="app+user"
        )
    except ConnectorError as exc:
        cause = cause_of("failed", str(exc))
        if cause.kind is CauseKind.FAILED:  # no token stored, or no usable answer
            cause = Cause(CauseKind.SIGN_IN_REQUIRED, "no usable refresh token", cause.code)
        return Check.failed(reader, cause, who="the partner administrator", tenant=HOME)
    return Check.ok(reader, "redeemed")


async def _carrier(readers: Readers, tenant: str, name: str, found: PartnerFindings) -> Check:
    """A carrier's sign-in in the partner tenant, where its app is registered."""
    reader = f"carrier {name}"
    try:
        await readers.requester.tokens.token(tenant, readers.endpoints.arm_resource, identity=name)
    except ConnectorError as exc:
        cause = _carrier_cause(cause_of("failed", str(exc)))
        found.carriers_down[name] = cause
        # A warning here: what the carrier fails to read is counted in the customers it covers.
        return replace(Check.failed(reader, cause, who=reader, tenant=HOME), state=State.WARNING)
    return Check.ok(reader, "signs in")


def _carrier_cause(cause: Cause) -> Cause:
    if cause.code == "AADSTS700016":
        return Cause(
            CauseKind.IDENTITY_DELETED,
            "the carrier's app registration is not in the partner's directory: deleted",
            cause.code,
        )
    return cause
