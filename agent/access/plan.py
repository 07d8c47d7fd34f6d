"""Planning ``partnerlink access`` from what the last sync saw: per customer, the consent where
the partner's app has no service principal, the Microsoft Graph app roles its reads were refused
for (all of them after a consent), and Reader on each Azure subscription the partner manages that
the app cannot list; each write marked blocked where the GDAP roles on record cannot make it.

The subscriptions the partner manages are those Partner Center bills it for (Azure plan usage),
those its recognition covers (PAL attribution), those a PAL carrier reaches and those the
managed-customers file names. A customer the last sync did not read yet is planned like one that
failed: the next plan picks up new customers, and a write that turns out to exist already is
reported as such, never made twice.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from agent.access import gdap_roles
from agent.access.writes import AZURE_ROLE, CONSENT, GRAPH_ROLES, AccessWrite
from agent.app import Agent
from agent.store.models import SETTLED_SCOPE, SourceStatus
from connectors.base import PARTNER_APP
from connectors.records.attribution import Attribution
from connectors.records.azure import AzureSubscription, AzureUsage
from connectors.records.customers import Customer
from connectors.records.gdap import GdapAccessAssignment, GdapRelationship, GdapStatus
from connectors.records.pal import Identity, PalLink
from connectors.records.record import Record
from connectors.records.scope import ScopeKind
from connectors.sources import graph_roles

CUSTOMER_ROLES: dict[str, tuple[str, ...]] = graph_roles(ScopeKind.CUSTOMER)
"""Per source, the Microsoft Graph app roles it reads with in each customer tenant."""

_HTTP_403 = re.compile(r"HTTP 403")
AZURE = "azure:"
"""The workload prefix of an Azure subscription (``azure:<subscription id>``)."""
_KINDS = tuple(
    cls.KIND
    for cls in (
        Customer,
        Identity,
        AzureSubscription,
        AzureUsage,
        Attribution,
        PalLink,
        GdapRelationship,
        GdapAccessAssignment,
    )
)


class NothingToPlan(Exception):
    """No sync has finished yet: there is nothing to plan from."""


@dataclass
class AccessPlan:
    app_id: str
    writes: list[AccessWrite] = field(default_factory=list)

    @property
    def sendable(self) -> list[AccessWrite]:
        return [w for w in self.writes if w.blocked is None]


@dataclass
class _Tenant:
    records: list[Record] = field(default_factory=list)

    def of(self, cls: type[Record]) -> list[Record]:
        return [r for r in self.records if isinstance(r, cls)]


def plan(agent: Agent) -> AccessPlan:
    """The writes that would make every customer readable, from the store's last sync."""
    store = agent.store
    run = store.last_finished_run()
    if run is None or run.id is None:
        raise NothingToPlan("no finished sync to plan from yet: run `partnerlink sync`")
    refused = _refused_roles(store.statuses(run.id).values())
    tenants: dict[str, _Tenant] = defaultdict(_Tenant)
    for obs in store.current(kinds=list(_KINDS)):
        if obs.record.customer_tenant_id:
            tenants[obs.record.customer_tenant_id].records.append(obs.record)
    expected = _expected_subscriptions(agent)
    app_id = _app_id(agent, tenants.values())
    result = AccessPlan(app_id=app_id)
    for tenant, seen in sorted(tenants.items()):
        if not _is_customer(seen):
            continue
        result.writes += _for_tenant(tenant, seen, refused.get(tenant), expected, app_id)
    result.writes.sort(key=lambda w: w.sort_key)
    return result


def _app_id(agent: Agent, seen: Iterable[_Tenant]) -> str:
    """The partner's app id: configured, else as customer tenants list it, else the one the
    agent signs in with."""
    configured = agent.settings.credentials.client_id
    if configured:
        return configured.lower()
    listed = (
        r.app_id
        for tenant in seen
        for r in tenant.records
        if isinstance(r, Identity) and r.identity == PARTNER_APP and r.app_id
    )
    found = next(listed, None)
    if found is None and agent.settings.sources.mode != "fake":
        found = agent.wiring().identities[PARTNER_APP]
    return found or "(the partner's app)"


def _is_customer(seen: _Tenant) -> bool:
    """A Partner Center customer, or one with an active GDAP relationship."""
    active = any(
        isinstance(r, GdapRelationship) and r.status is GdapStatus.ACTIVE for r in seen.records
    )
    return active or bool(seen.of(Customer))


def _refused_roles(statuses: Iterable[SourceStatus]) -> dict[str, set[str]]:
    """Per customer tenant where the partner's app could sign in, the Graph app roles of the
    sources the last sync was refused (HTTP 403) there (an empty set: signed in, nothing
    refused)."""
    refused: dict[str, set[str]] = {}
    for status in statuses:
        tenant = status.customer_tenant_id
        if not tenant or status.source not in CUSTOMER_ROLES:
            continue
        if _HTTP_403.search(status.error or ""):
            refused.setdefault(tenant, set()).update(CUSTOMER_ROLES[status.source])
        elif status.status in SETTLED_SCOPE:
            refused.setdefault(tenant, set())
    return refused


def _expected_subscriptions(agent: Agent) -> dict[str, set[str]]:
    """The subscriptions the managed-customers file names, per tenant."""
    found: dict[str, set[str]] = defaultdict(set)
    for tenant, expectations in agent.expectations().items():
        for e in expectations:
            if e.workload.startswith(AZURE):
                found[tenant].add(e.workload.split(":", 1)[1].lower())
    return found


def _for_tenant(
    tenant: str,
    seen: _Tenant,
    refused: set[str] | None,
    expected: dict[str, set[str]],
    app_id: str,
) -> list[AccessWrite]:
    """``refused``: the Graph app roles refused there, ``None`` where the app could not even
    sign in (or was not read)."""
    name = _name(tenant, seen)
    held = _gdap_held(seen)
    listed = any(isinstance(r, Identity) and r.identity == PARTNER_APP for r in seen.records)
    consented = listed or refused is not None
    writes: list[AccessWrite] = []

    def write(kind: str, **detail: Any) -> None:
        writes.append(AccessWrite(kind, tenant, name, app_id, **detail))

    if not consented:
        blocked = gdap_roles.missing(held, gdap_roles.CONSENT)
        if not seen.of(Customer):
            blocked = "not a Partner Center customer: its administrator must consent to the app"
        write(CONSENT, blocked=blocked)
    every = {r for rs in CUSTOMER_ROLES.values() for r in rs}
    roles = sorted((refused or set()) if consented else every)
    if roles:
        blocked = gdap_roles.missing(held, gdap_roles.GRAPH_APP_ROLES)
        write(GRAPH_ROLES, roles=tuple(roles), blocked=blocked)
    active = any(
        isinstance(r, GdapRelationship) and r.status is GdapStatus.ACTIVE for r in seen.records
    )
    azure_blocked = None if active else "no active GDAP relationship with the customer"
    for sub in sorted(_managed(seen, expected.get(tenant, set())) - _readable(seen)):
        write(AZURE_ROLE, subscription=sub, blocked=azure_blocked)
    return writes


def _name(tenant: str, seen: _Tenant) -> str:
    names: list[str | None] = [r.name for r in seen.records if isinstance(r, Customer)]
    names += [r.customer_name for r in seen.records if isinstance(r, GdapRelationship)]
    return next((n for n in names if n), tenant)


def _gdap_held(seen: _Tenant) -> set[str]:
    """The roles of the active access assignments of active relationships."""
    active = {
        r.relationship_id
        for r in seen.records
        if isinstance(r, GdapRelationship) and r.status is GdapStatus.ACTIVE
    }
    return {
        role.lower()
        for a in seen.records
        if isinstance(a, GdapAccessAssignment)
        and a.relationship_id in active
        and (a.status or "").lower() == "active"
        for role in a.roles
    }


def _managed(seen: _Tenant, expected: set[str]) -> set[str]:
    """Subscriptions the partner manages in the tenant, as far as the store shows."""
    subs = set(expected)
    for r in seen.records:
        if isinstance(r, AzureUsage):
            subs.add(r.resource_id.lower())
        elif isinstance(r, Attribution) and r.workload.startswith(AZURE):
            subs.add(r.workload.split(":", 1)[1].lower())
        elif isinstance(r, PalLink):
            subs.update(s.lower() for s in r.subscriptions)
    return subs


def _readable(seen: _Tenant) -> set[str]:
    """Subscriptions the partner's app lists itself."""
    subs = {r.subscription_id.lower() for r in seen.records if isinstance(r, AzureSubscription)}
    subs.update(
        s.lower()
        for r in seen.records
        if isinstance(r, PalLink) and r.identity == PARTNER_APP
        for s in r.subscriptions
    )
    return subs


__all__ = ["AccessPlan", "NothingToPlan", "plan"]
