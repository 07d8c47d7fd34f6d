"""The emulator's live world: a loaded scenario plus what changes while it runs.

The scenario is immutable; what clients change (Partner Admin Links set through ARM PUT, PATCH
and DELETE), what the emulator hands out (download links, insight queries and reports) and
the fault counters live here. A reload of the scenario file starts a new world.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from connectors.base import PARTNER_APP
from standin.emulator.grants import Grants
from standin.emulator.shapes import iso
from standin.fake import FaultBook
from standin.scenario.model import AppSpec, CustomerSpec, GdapSpec, Scenario
from standin.scenario.permissions import graph_roles
from standin.scenario.world import ServicePrincipal, service_principal, service_principals

DOWNLOAD_LIFETIME = 300.0
"""Seconds a pre-authenticated download link (report CSV, insight CSV) stays valid."""


@dataclass
class PalState:
    """The Partner Admin Link of one identity in one tenant."""

    partner_id: str | None
    version: int
    created: str
    updated: str


@dataclass
class Download:
    content: bytes
    content_type: str
    expires: float
    cut: bool = False
    """Serve it cut short (an injected ``truncated`` fault)."""


@dataclass
class World:
    """One loaded scenario and its mutable state."""

    scenario: Scenario
    faults: FaultBook = field(init=False)
    customers: dict[str, CustomerSpec] = field(init=False)
    apps: dict[str, tuple[str, AppSpec]] = field(init=False)
    relationships: dict[str, GdapSpec] = field(init=False)
    """GDAP relationships by id (the first of the scenario's order where ids repeat)."""
    gdap_pairs: tuple[tuple[CustomerSpec, GdapSpec], ...] = field(init=False)
    """Every GDAP relationship with its customer, in the scenario's order."""
    pal: dict[tuple[str, str], PalState] = field(default_factory=dict)
    queries: dict[str, dict[str, Any]] = field(default_factory=dict)
    reports: dict[str, dict[str, Any]] = field(default_factory=dict)
    grants: Grants = field(default_factory=Grants)
    """Consents and role assignments clients wrote (:mod:`standin.emulator.grants`)."""
    lock: threading.Lock = field(default_factory=threading.Lock)
    _principals: dict[int, tuple[CustomerSpec, tuple[ServicePrincipal, ...]]] = field(
        default_factory=dict, init=False, repr=False
    )

    def __post_init__(self) -> None:
        self.faults = FaultBook(list(self.scenario.faults))
        self.customers = {c.tenant_id.lower(): c for c in self.scenario.customers}
        self.apps = {
            self.scenario.partner.app.client_id.lower(): (PARTNER_APP, self.scenario.partner.app)
        }
        for carrier in self.scenario.partner.carriers:
            self.apps.setdefault(carrier.client_id.lower(), (carrier.name, carrier))
        self.gdap_pairs = tuple((c, g) for c in self.scenario.customers for g in c.gdap)
        self.relationships = {}
        for _customer, rel in self.gdap_pairs:
            self.relationships.setdefault(rel.id, rel)

    @property
    def partner_tenant(self) -> str:
        return self.scenario.partner.tenant_id.lower()

    def customer(self, tenant_id: str) -> CustomerSpec | None:
        """The customer as it is now: the scenario's, with the consents and roles granted."""
        found = self.customers.get(tenant_id.lower())
        return self.grants.apply(found) if found is not None else None

    def gdap_roles(self, tenant_id: str) -> frozenset[str]:
        """The Entra roles the partner's administrators hold in a customer tenant through GDAP:
        those of the active access assignments of its active relationships."""
        customer = self.customers.get(tenant_id.lower())
        if customer is None:
            return frozenset()
        return frozenset(
            role.lower()
            for rel in customer.gdap
            if rel.status.lower() == "active"
            for assignment in rel.access_assignments
            if assignment.status.lower() == "active"
            for role in assignment.roles
        )

    def gdap_active(self, tenant_id: str) -> bool:
        """Whether the partner has an active GDAP relationship with the customer."""
        customer = self.customers.get(tenant_id.lower())
        return customer is not None and any(r.status.lower() == "active" for r in customer.gdap)

    def graph_roles(self, tenant_id: str, identity: str) -> tuple[str, ...]:
        """The Graph application roles ``identity`` holds in a tenant, as its token there
        carries them and the directory lists them: the scenario's (the customer's own
        ``app_roles``, else the app's, else the read-only default of the partner's app), none
        where a client only just consented the app (Partner Center's consent grants delegated
        scopes), and the app roles clients assigned there since."""
        tenant = tenant_id.lower()
        base = graph_roles(self.scenario, self.scenario.customer(tenant), identity)
        if identity != PARTNER_APP:
            return base
        if self.grants.written_consent(tenant):
            base = ()
        return base + tuple(sorted(self.grants.assigned_app_roles(tenant) - set(base)))

    def known_tenant(self, tenant_id: str) -> bool:
        tenant = tenant_id.lower()
        return tenant == self.partner_tenant or tenant in self.customers

    def app(self, client_id: str) -> tuple[str, AppSpec] | None:
        """(identity name, app) of a client id."""
        return self.apps.get(client_id.lower())

    def users(self, tenant_id: str) -> int:
        """Licensed users of a tenant: what sizes its Graph identity bucket (§3.3)."""
        customer = self.customer(tenant_id)
        if customer is None:
            return 100  # the partner tenant: a medium tenant
        return sum(lic.consumed_units for lic in customer.licences)

    def service_principal(self, tenant_id: str, identity: str) -> ServicePrincipal | None:
        customer = self.customer(tenant_id)
        if customer is None:
            return None
        return service_principal(
            self.scenario, customer, identity, principals=self.principals(customer)
        )

    def principals(self, customer: CustomerSpec) -> tuple[ServicePrincipal, ...]:
        """The partner's service principals in a customer tenant as :meth:`customer` gives it,
        made once per customer object: the scenario's never change, and a grant makes a new
        one."""
        made = self._principals.get(id(customer))
        if made is None or made[0] is not customer:
            made = (customer, tuple(service_principals(self.scenario, customer)))
            self._principals[id(customer)] = made
        return made[1]

    # -- Partner Admin Link ------------------------------------------------------------------

    def pal_state(self, tenant_id: str, identity: str) -> PalState:
        key = (tenant_id.lower(), identity)
        with self.lock:
            state = self.pal.get(key)
            if state is None:
                sp = self.service_principal(tenant_id, identity)
                partner_id = sp.spec.pal if sp and sp.spec else None
                stamp = iso(self.scenario.clock, fraction=True) or ""
                state = self.pal[key] = PalState(partner_id, 1, stamp, stamp)
            return state

    def set_pal(self, tenant_id: str, identity: str, partner_id: str | None) -> PalState:
        state = self.pal_state(tenant_id, identity)
        with self.lock:
            stamp = iso(datetime.now(UTC), fraction=True) or ""
            if state.partner_id is None and partner_id is not None:
                state.created = stamp
            state.partner_id = partner_id
            state.version += 1
            state.updated = stamp
            return state


class Downloads:
    """Short-lived pre-authenticated download links (Graph reports, insight report files)."""

    def __init__(self, lifetime: float = DOWNLOAD_LIFETIME) -> None:
        self.lifetime = lifetime
        self._items: dict[str, Download] = {}
        self._lock = threading.Lock()

    def add(self, content: bytes, content_type: str, *, cut: bool = False) -> str:
        token = secrets.token_urlsafe(24)
        now = time.monotonic()
        with self._lock:
            # Links are kept in the order they were made, each as long as the next: the expired
            # ones are the oldest.
            while self._items:
                oldest = next(iter(self._items))
                if self._items[oldest].expires >= now:
                    break
                del self._items[oldest]
            self._items[token] = Download(content, content_type, now + self.lifetime, cut)
        return token

    def get(self, token: str) -> Download | None:
        with self._lock:
            item = self._items.get(token)
        if item is None or item.expires < time.monotonic():
            return None
        return item
