"""One row per source: what it is and which connector reads it.

A row names the source, how it is scoped, the record kinds it yields, the Graph roles it needs,
the page size it asks for and the connector that reads it. The live connectors, the live factory,
the stand-in's fakes and emulator, and ``check --online`` all read these rows, so adding a source
is one row here, its connector, and its fake in the stand-in.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from connectors.arm import ArmPal, ArmSubscriptions
from connectors.base import Connector
from connectors.endpoints import CloudEndpoints
from connectors.graph.gdap import (
    GraphContracts,
    GraphDirectorySubscriptions,
    GraphGdap,
    GraphIdentities,
    GraphSubscribedSkus,
    GraphUsageReports,
)
from connectors.http.requester import Requester
from connectors.insights.api import InsightsApi, InsightsFolder, InsightsQuery
from connectors.partner_center import (
    PartnerCenterAuditRecords,
    PartnerCenterCustomers,
    PartnerCenterSubscriptions,
    PartnerCenterUsage,
)
from connectors.records.customers import (
    ActiveUsers,
    Attribution,
    AuditEvent,
    AzureSubscription,
    AzureUsage,
    Contract,
    CspSubscription,
    Customer,
    DirectorySubscription,
    GdapAccessAssignment,
    GdapRelationship,
    Identity,
    LicenseUsage,
    PalLink,
    ScopeKind,
    Source,
    SubscribedSku,
)
from connectors.timing import Sleep

GDAP_CONCURRENCY = 64
"""Access-assignment listings of GDAP relationships read at once."""


@dataclass(frozen=True, slots=True)
class Permission:
    """A Microsoft Graph application role a source needs (Partner Center and ARM grant access
    by relationship and role assignment instead; a real read is their test)."""

    role: str
    granted_in: ScopeKind
    """``partner``: in the partner tenant, by admin consent; ``customer``: in each customer
    tenant, by the partner's application consent."""


@dataclass(frozen=True, slots=True)
class LiveContext:
    """What every live connector of one sync is made from."""

    requester: Requester
    endpoints: CloudEndpoints
    partner_tenant_id: str
    identities: Mapping[str, str]
    """Every identity the agent signs in as, ``partner-app`` included, to its app (client) id."""
    app_user: bool
    """Whether an app+user refresh token is configured (the delegated sources need one)."""
    insights_folder: Path | None
    audit_lookback_days: int
    insights_queries: tuple[InsightsQuery, ...]
    user_identity: str
    sleep: Sleep


Connect = Callable[[LiveContext], Iterable[Connector]]
"""A row's live connectors: usually one, one per identity for a per-identity source, none
where the sync has not what the source needs (an app+user token)."""


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
    connect: Connect
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


def _audit_records(c: LiveContext) -> list[Connector]:
    return [
        PartnerCenterAuditRecords(
            c.requester,
            c.endpoints,
            partner_tenant_id=c.partner_tenant_id,
            lookback_days=c.audit_lookback_days,
        )
    ]


def _usage(c: LiveContext) -> list[Connector]:
    if not c.app_user:
        return []
    return [
        PartnerCenterUsage(
            c.requester,
            c.endpoints,
            partner_tenant_id=c.partner_tenant_id,
            user_identity=c.user_identity,
        )
    ]


def _gdap(c: LiveContext) -> list[Connector]:
    # One access-assignment listing per relationship, all in the partner tenant's multi-tenant
    # budget: on a large estate this read sets the sync's floor, so it keeps enough requests
    # going to use that budget (the limiter holds it there).
    return [
        GraphGdap(
            c.requester,
            c.endpoints,
            partner_tenant_id=c.partner_tenant_id,
            concurrency=GDAP_CONCURRENCY,
        )
    ]


def _identities(c: LiveContext) -> list[Connector]:
    return [
        GraphIdentities(
            c.requester, c.endpoints, partner_tenant_id=c.partner_tenant_id, apps=c.identities
        )
    ]


def _pal(c: LiveContext) -> list[Connector]:
    return [ArmPal(c.requester, c.endpoints, identity=name) for name in c.identities]


def _insights(c: LiveContext) -> list[Connector]:
    """The report CSVs of ``insights_folder`` where one is given, else the insights API, which
    needs an app+user token."""
    if c.insights_folder is not None:
        return [InsightsFolder(c.insights_folder)]
    if not c.app_user:
        return []
    return [
        InsightsApi(
            c.requester,
            c.endpoints,
            partner_tenant_id=c.partner_tenant_id,
            queries=c.insights_queries,
            user_identity=c.user_identity,
            sleep=c.sleep,
        )
    ]


SOURCES: tuple[SourceRow, ...] = (
    SourceRow(
        source=Source.PC_CUSTOMERS,
        scope_kind=ScopeKind.PARTNER,
        kinds=(Customer.KIND,),
        page_size=100,
        connect=lambda c: [
            PartnerCenterCustomers(c.requester, c.endpoints, partner_tenant_id=c.partner_tenant_id)
        ],
    ),
    SourceRow(
        source=Source.PC_SUBSCRIPTIONS,
        scope_kind=ScopeKind.CUSTOMER,
        kinds=(CspSubscription.KIND,),
        page_size=100,
        connect=lambda c: [
            PartnerCenterSubscriptions(
                c.requester, c.endpoints, partner_tenant_id=c.partner_tenant_id
            )
        ],
        requires=Source.PC_CUSTOMERS,
    ),
    SourceRow(
        source=Source.PC_AUDIT,
        scope_kind=ScopeKind.PARTNER,
        kinds=(AuditEvent.KIND,),
        page_size=500,
        connect=_audit_records,
    ),
    SourceRow(
        source=Source.PC_USAGE,
        scope_kind=ScopeKind.CUSTOMER,
        kinds=(AzureUsage.KIND, LicenseUsage.KIND),
        page_size=100,
        connect=_usage,
        requires=Source.PC_CUSTOMERS,
    ),
    SourceRow(
        source=Source.GRAPH_CONTRACTS,
        scope_kind=ScopeKind.PARTNER,
        kinds=(Contract.KIND,),
        page_size=100,
        connect=lambda c: [
            GraphContracts(c.requester, c.endpoints, partner_tenant_id=c.partner_tenant_id)
        ],
        permissions=(Permission("Directory.Read.All", ScopeKind.PARTNER),),
    ),
    SourceRow(
        source=Source.GRAPH_GDAP,
        scope_kind=ScopeKind.PARTNER,
        kinds=(GdapRelationship.KIND, GdapAccessAssignment.KIND),
        page_size=300,  # Graph's documented $top maximum for delegatedAdminRelationships
        connect=_gdap,
        permissions=(Permission("DelegatedAdminRelationship.Read.All", ScopeKind.PARTNER),),
    ),
    SourceRow(
        source=Source.GRAPH_SKUS,
        scope_kind=ScopeKind.CUSTOMER,
        kinds=(SubscribedSku.KIND,),
        page_size=100,
        connect=lambda c: [
            GraphSubscribedSkus(c.requester, c.endpoints, partner_tenant_id=c.partner_tenant_id)
        ],
        permissions=(Permission("Organization.Read.All", ScopeKind.CUSTOMER),),
    ),
    SourceRow(
        source=Source.GRAPH_DIRECTORY_SUBSCRIPTIONS,
        scope_kind=ScopeKind.CUSTOMER,
        kinds=(DirectorySubscription.KIND,),
        page_size=100,
        connect=lambda c: [
            GraphDirectorySubscriptions(
                c.requester, c.endpoints, partner_tenant_id=c.partner_tenant_id
            )
        ],
        permissions=(Permission("Organization.Read.All", ScopeKind.CUSTOMER),),
    ),
    SourceRow(
        source=Source.GRAPH_USAGE,
        scope_kind=ScopeKind.CUSTOMER,
        kinds=(ActiveUsers.KIND,),
        page_size=100,  # one report, one request
        connect=lambda c: [
            GraphUsageReports(c.requester, c.endpoints, partner_tenant_id=c.partner_tenant_id)
        ],
        permissions=(Permission("Reports.Read.All", ScopeKind.CUSTOMER),),
    ),
    SourceRow(
        source=Source.GRAPH_IDENTITIES,
        scope_kind=ScopeKind.CUSTOMER,
        kinds=(Identity.KIND,),
        page_size=100,
        connect=_identities,
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
        connect=lambda c: [ArmSubscriptions(c.requester, c.endpoints)],
    ),
    SourceRow(
        source=Source.ARM_PAL,
        scope_kind=ScopeKind.CUSTOMER,
        kinds=(PalLink.KIND,),
        page_size=100,  # one object per identity, one request
        connect=_pal,
        per_identity=True,
    ),
    SourceRow(
        source=Source.INSIGHTS,
        scope_kind=ScopeKind.PARTNER,
        kinds=(Attribution.KIND,),
        page_size=1000,
        connect=_insights,
    ),
)
"""Every source, in :class:`~connectors.records.Source` order (the order connectors are made)."""

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
