"""One row per source: what it is, how it is read and what it needs.

A row names the source, how it is scoped, the record kinds it yields, the Graph roles it needs
and the page size it asks for. The live connectors, the live factory, the stand-in's fakes and
emulator, and ``check --online`` all read these rows, so adding a source is one row here, its
connector and the line that makes it (:data:`connectors.live.MAKERS`), and its fake in the
stand-in. The rows name no connector class: the connectors read their rows, so this module
imports none of them.
"""

from __future__ import annotations

from dataclasses import dataclass

from connectors.records.attribution import Attribution
from connectors.records.azure import AzureSubscription, AzureUsage
from connectors.records.customers import AuditEvent, Contract, CspSubscription, Customer
from connectors.records.gdap import GdapAccessAssignment, GdapRelationship
from connectors.records.licences import (
    ActiveUsers,
    DirectorySubscription,
    LicenseUsage,
    SubscribedSku,
)
from connectors.records.pal import Identity, PalLink
from connectors.records.scope import ScopeKind, Source


@dataclass(frozen=True, slots=True)
class Permission:
    """A Microsoft Graph application role a source needs (Partner Center and ARM grant access
    by relationship and role assignment instead; a real read is their test)."""

    role: str
    granted_in: ScopeKind
    """``partner``: in the partner tenant, by admin consent; ``customer``: in each customer
    tenant, by the partner's application consent."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceRow:
    """Everything the agent declares about one source."""

    source: Source
    scope_kind: ScopeKind
    kinds: tuple[str, ...]
    """The record kinds it yields: those a complete read of it may mark removed."""
    page_size: int
    """Items per page it asks for; the emulator pages the same way, so that a fault on
    ``page:N`` means the same to the fake, the emulator and the real connectors."""
    permissions: tuple[Permission, ...] = ()
    requires: Source | None = None
    """The partner source whose customers this customer source exists for."""
    per_identity: bool = False
    """Read once per identity the agent signs in as (the partner's app and every carrier)."""

    @property
    def name(self) -> str:
        return self.source.value

    def pages(self, items: int) -> int:
        """How many pages a listing of ``items`` has; an empty listing is one (empty) page."""
        return max(1, -(-items // self.page_size))


SOURCES: tuple[SourceRow, ...] = (
    SourceRow(
        source=Source.PC_CUSTOMERS,
        scope_kind=ScopeKind.PARTNER,
        kinds=(Customer.KIND,),
        page_size=100,
    ),
    SourceRow(
        source=Source.PC_SUBSCRIPTIONS,
        scope_kind=ScopeKind.CUSTOMER,
        kinds=(CspSubscription.KIND,),
        page_size=100,
        requires=Source.PC_CUSTOMERS,
    ),
    SourceRow(
        source=Source.PC_AUDIT,
        scope_kind=ScopeKind.PARTNER,
        kinds=(AuditEvent.KIND,),
        page_size=500,
    ),
    SourceRow(
        source=Source.PC_USAGE,
        scope_kind=ScopeKind.CUSTOMER,
        kinds=(AzureUsage.KIND, LicenseUsage.KIND),
        page_size=100,
        requires=Source.PC_CUSTOMERS,
    ),
    SourceRow(
        source=Source.GRAPH_CONTRACTS,
        scope_kind=ScopeKind.PARTNER,
        kinds=(Contract.KIND,),
        page_size=100,
        permissions=(Permission("Directory.Read.All", ScopeKind.PARTNER),),
    ),
    SourceRow(
        source=Source.GRAPH_GDAP,
        scope_kind=ScopeKind.PARTNER,
        kinds=(GdapRelationship.KIND, GdapAccessAssignment.KIND),
        page_size=300,  # Graph's documented $top maximum for delegatedAdminRelationships
        permissions=(Permission("DelegatedAdminRelationship.Read.All", ScopeKind.PARTNER),),
    ),
    SourceRow(
        source=Source.GRAPH_SKUS,
        scope_kind=ScopeKind.CUSTOMER,
        kinds=(SubscribedSku.KIND,),
        page_size=100,
        permissions=(Permission("Organization.Read.All", ScopeKind.CUSTOMER),),
    ),
    SourceRow(
        source=Source.GRAPH_DIRECTORY_SUBSCRIPTIONS,
        scope_kind=ScopeKind.CUSTOMER,
        kinds=(DirectorySubscription.KIND,),
        page_size=100,
        permissions=(Permission("Organization.Read.All", ScopeKind.CUSTOMER),),
    ),
    SourceRow(
        source=Source.GRAPH_USAGE,
        scope_kind=ScopeKind.CUSTOMER,
        kinds=(ActiveUsers.KIND,),
        page_size=100,  # one report, one request
        permissions=(Permission("Reports.Read.All", ScopeKind.CUSTOMER),),
    ),
    SourceRow(
        source=Source.GRAPH_IDENTITIES,
        scope_kind=ScopeKind.CUSTOMER,
        kinds=(Identity.KIND,),
        page_size=100,
        # The carriers' app credentials in the partner tenant, the service principals in each
        # customer tenant.
        permissions=(
            Permission("Application.Read.All", ScopeKind.PARTNER),
            Permission("Application.Read.All", ScopeKind.CUSTOMER),
        ),
    ),
    SourceRow(
        source=Source.ARM_SUBSCRIPTIONS,
        scope_kind=ScopeKind.CUSTOMER,
        kinds=(AzureSubscription.KIND,),
        page_size=100,
    ),
    SourceRow(
        source=Source.ARM_PAL,
        scope_kind=ScopeKind.CUSTOMER,
        kinds=(PalLink.KIND,),
        page_size=100,  # one object per identity, one request
        per_identity=True,
    ),
    SourceRow(
        source=Source.INSIGHTS,
        scope_kind=ScopeKind.PARTNER,
        kinds=(Attribution.KIND,),
        page_size=1000,
    ),
)
"""Every source, in :class:`~connectors.records.scope.Source` order (the order connectors are
made)."""

_BY_SOURCE: dict[Source, SourceRow] = {row.source: row for row in SOURCES}


def source_row(source: Source | str) -> SourceRow:
    """The row of ``source`` (a :class:`Source` or its name)."""
    return _BY_SOURCE[Source(source)]


def graph_roles(granted_in: ScopeKind) -> dict[str, tuple[str, ...]]:
    """Source name -> the Graph roles it needs granted in the partner or each customer tenant,
    for the sources that need any."""
    needs = {
        row.name: tuple(p.role for p in row.permissions if p.granted_in is granted_in)
        for row in SOURCES
    }
    return {name: roles for name, roles in needs.items() if roles}
