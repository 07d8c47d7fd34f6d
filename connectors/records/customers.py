"""Frozen records that cross the connector boundary: one small class per fact a source reports.

Connectors turn API payloads into these records and nothing else leaves a connector. Every record
has a ``KIND`` (its table discriminator in the store), a natural ``key`` that is unique within its
(source, scope), and the ``customer_tenant_id`` it belongs to (``None`` for partner-level facts).
Required fields fail loudly in the connector; optional ones are ``None``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import ClassVar, Protocol, runtime_checkable


class Source(StrEnum):
    """Every source the agent reads; the unit of the per-(source, scope) status."""

    PC_CUSTOMERS = "partner_center.customers"
    PC_SUBSCRIPTIONS = "partner_center.subscriptions"
    PC_AUDIT = "partner_center.audit_records"
    PC_USAGE = "partner_center.usage"
    GRAPH_CONTRACTS = "graph.contracts"
    GRAPH_GDAP = "graph.gdap"
    GRAPH_SKUS = "graph.subscribed_skus"
    GRAPH_DIRECTORY_SUBSCRIPTIONS = "graph.directory_subscriptions"
    GRAPH_USAGE = "graph.usage_reports"
    GRAPH_IDENTITIES = "graph.identities"
    ARM_SUBSCRIPTIONS = "arm.subscriptions"
    ARM_PAL = "arm.pal"
    INSIGHTS = "insights.attribution"


class ScopeKind(StrEnum):
    """Whether a source is read once for the partner or once per customer tenant."""

    PARTNER = "partner"
    CUSTOMER = "customer"


PARTNER_SCOPE = "partner"
"""The scope string of partner-level sources."""


def scope_for(customer_tenant_id: str | None, identity: str | None = None) -> str:
    """The scope string of a read: ``partner``, ``<tenant>`` or ``<tenant>/<identity>``."""
    if customer_tenant_id is None:
        return PARTNER_SCOPE
    return f"{customer_tenant_id}/{identity}" if identity else customer_tenant_id


class LinkKind(StrEnum):
    """The kinds of partner link the agent watches (domain.md, glossary)."""

    CSP = "csp"
    INDIRECT_RESELLER = "indirect_reseller"
    GDAP = "gdap"
    PAL = "pal"
    DPOR = "dpor"
    CPOR = "cpor"


class GdapStatus(StrEnum):
    """GDAP relationship states as Graph documents them; anything else is ``unknown`` (R3)."""

    ACTIVATING = "activating"
    ACTIVE = "active"
    APPROVAL_PENDING = "approvalPending"
    APPROVED = "approved"
    CREATED = "created"
    EXPIRED = "expired"
    EXPIRING = "expiring"
    TERMINATED = "terminated"
    TERMINATING = "terminating"
    TERMINATION_REQUESTED = "terminationRequested"
    UNKNOWN = "unknown"

    @classmethod
    def parse(cls, raw: str | None) -> GdapStatus:
        for member in cls:
            if member.value == raw and member is not cls.UNKNOWN:
                return member
        return cls.UNKNOWN


GLOBAL_ADMINISTRATOR_ROLE = "62e90394-69f5-4237-9190-012177145e10"
"""Entra role template id of Global Administrator: its presence blocks GDAP auto-extend."""


@runtime_checkable
class Record(Protocol):
    """What every record offers the sync and the store."""

    KIND: ClassVar[str]

    @property
    def key(self) -> str: ...

    @property
    def customer_tenant_id(self) -> str | None: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class Customer:
    """A customer of the partner in Partner Center (its CSP relationship, indirect reseller)."""

    KIND: ClassVar[str] = "customer"
    tenant_id: str
    name: str
    domain: str | None = None
    relationship: str | None = None
    """``relationshipToPartner``: reseller, advisor, none, ..."""
    associated_partner_id: str | None = None
    """The indirect reseller's partner ID, where there is one."""
    allow_delegated_access: bool | None = None

    @property
    def key(self) -> str:
        return self.tenant_id

    @property
    def customer_tenant_id(self) -> str:
        return self.tenant_id


@dataclass(frozen=True, slots=True, kw_only=True)
class CspSubscription:
    """A subscription the partner (or its indirect reseller) sold through CSP."""

    KIND: ClassVar[str] = "csp_subscription"
    customer_tenant_id: str
    subscription_id: str
    offer_id: str | None = None
    offer_name: str | None = None
    quantity: int | None = None
    status: str | None = None
    partner_id: str | None = None
    """Reseller of record (indirect model)."""
    billing_type: str | None = None
    created: datetime | None = None

    @property
    def key(self) -> str:
        return self.subscription_id.lower()


@dataclass(frozen=True, slots=True, kw_only=True)
class Contract:
    """A Graph contract object in the partner tenant: the partner may manage this customer."""

    KIND: ClassVar[str] = "contract"
    customer_tenant_id: str
    contract_type: str | None = None
    display_name: str | None = None
    default_domain: str | None = None

    @property
    def key(self) -> str:
        return self.customer_tenant_id


@dataclass(frozen=True, slots=True, kw_only=True)
class GdapRelationship:
    """A granular delegated admin relationship with a customer."""

    KIND: ClassVar[str] = "gdap_relationship"
    relationship_id: str
    customer_tenant_id: str
    customer_name: str | None = None
    display_name: str | None = None
    status: GdapStatus = GdapStatus.UNKNOWN
    raw_status: str | None = None
    roles: tuple[str, ...] = ()
    auto_extend_duration: str | None = None
    activated: datetime | None = None
    ends: datetime | None = None

    @property
    def key(self) -> str:
        return self.relationship_id

    @property
    def auto_extends(self) -> bool:
        """Auto-extend is set and not blocked by the Global Administrator role."""
        duration = (self.auto_extend_duration or "").upper()
        return duration not in ("", "PT0S", "P0D") and GLOBAL_ADMINISTRATOR_ROLE not in self.roles


@dataclass(frozen=True, slots=True, kw_only=True)
class GdapAccessAssignment:
    """Which security group of the partner holds which roles under a GDAP relationship."""

    KIND: ClassVar[str] = "gdap_access_assignment"
    assignment_id: str
    relationship_id: str
    customer_tenant_id: str
    group_id: str | None = None
    roles: tuple[str, ...] = ()
    status: str | None = None

    @property
    def key(self) -> str:
        return f"{self.relationship_id}/{self.assignment_id}"


@dataclass(frozen=True, slots=True, kw_only=True)
class SubscribedSku:
    """A licence SKU in the customer tenant and how many of its units are in use."""

    KIND: ClassVar[str] = "subscribed_sku"
    customer_tenant_id: str
    sku_id: str
    sku_part_number: str | None = None
    capability_status: str | None = None
    enabled_units: int = 0
    consumed_units: int = 0

    @property
    def key(self) -> str:
        return self.sku_id.lower()


@dataclass(frozen=True, slots=True, kw_only=True)
class DirectorySubscription:
    """A commercial subscription in the customer tenant; ``owner_tenant_id`` is who bought it."""

    KIND: ClassVar[str] = "directory_subscription"
    customer_tenant_id: str
    subscription_id: str
    sku_id: str | None = None
    sku_part_number: str | None = None
    status: str | None = None
    total_licenses: int | None = None
    owner_tenant_id: str | None = None
    commerce_subscription_id: str | None = None
    is_trial: bool | None = None

    @property
    def key(self) -> str:
        return self.subscription_id.lower()


@dataclass(frozen=True, slots=True, kw_only=True)
class ActiveUsers:
    """Active users of one Microsoft 365 workload over a report period."""

    KIND: ClassVar[str] = "active_users"
    customer_tenant_id: str
    workload: str
    active_users: int
    report_refresh_date: str | None = None
    period: str | None = None

    @property
    def key(self) -> str:
        return self.workload


@dataclass(frozen=True, slots=True, kw_only=True)
class AzureSubscription:
    """An Azure subscription in the customer tenant, with its Lighthouse managing tenants."""

    KIND: ClassVar[str] = "azure_subscription"
    customer_tenant_id: str
    subscription_id: str
    display_name: str | None = None
    state: str | None = None
    managed_by_tenants: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return self.subscription_id.lower()


@dataclass(frozen=True, slots=True, kw_only=True)
class PalLink:
    """The Partner Admin Link of one identity in one customer tenant, read as that identity.

    ``partner_id`` is ``None`` when Azure answered ``ManagementPartnerNotFound``: an observed,
    authenticated "not linked", which is not the same as "could not read".
    """

    KIND: ClassVar[str] = "pal_link"
    customer_tenant_id: str
    identity: str
    object_id: str | None = None
    partner_id: str | None = None
    state: str | None = None
    updated: datetime | None = None
    subscriptions: tuple[str, ...] = ()
    """Azure subscriptions the identity can reach (listed as that identity, sorted): where its
    PAL earns credit."""

    @property
    def key(self) -> str:
        return self.identity


@dataclass(frozen=True, slots=True, kw_only=True)
class Identity:
    """A PAL-carrying identity (the partner's app or a carrier) as seen in the customer tenant.

    Read by the partner's app: the service principal in the customer tenant (object id, enabled)
    and the expiry of the app registration's newest credential in the partner tenant.
    """

    KIND: ClassVar[str] = "identity"
    customer_tenant_id: str
    identity: str
    object_id: str | None = None
    app_id: str | None = None
    display_name: str | None = None
    enabled: bool = True
    credential_expires: datetime | None = None

    @property
    def key(self) -> str:
        return self.identity


@dataclass(frozen=True, slots=True, kw_only=True)
class Attribution:
    """One row of the Partner Center insight reports: who Microsoft credits for a workload."""

    KIND: ClassVar[str] = "attribution"
    customer_tenant_id: str
    workload: str
    attribution_type: str
    """DPOR, CPOR, PAL, CSP, ... as the report spells it, upper-cased."""
    partner_id: str | None = None
    month: str | None = None
    subscription_id: str | None = None
    monthly_active_users: int | None = None
    acr_usd: float | None = None
    seats: int | None = None

    @property
    def key(self) -> str:
        # Reports are partner-scoped: the customer is part of the identity of a row.
        return (
            f"{self.customer_tenant_id}|{self.workload}|{self.attribution_type}|"
            f"{self.partner_id or ''}"
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class AzureUsage:
    """Azure plan usage of a customer subscription, with its partner on record (app+user)."""

    KIND: ClassVar[str] = "azure_usage"
    customer_tenant_id: str
    resource_id: str
    name: str | None = None
    total_cost: float | None = None
    currency: str | None = None
    usd_total_cost: float | None = None
    partner_on_record: str | None = None

    @property
    def key(self) -> str:
        return self.resource_id.lower()


@dataclass(frozen=True, slots=True, kw_only=True)
class LicenseUsage:
    """Licence usage insight of a customer's product (app+user)."""

    KIND: ClassVar[str] = "license_usage"
    customer_tenant_id: str
    product: str
    workload: str | None = None
    licenses_active: int | None = None
    licenses_qualified: int | None = None

    @property
    def key(self) -> str:
        return f"{self.product}|{self.workload or ''}"


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditEvent:
    """A Partner Center audit record: the change feed of customer and association events."""

    KIND: ClassVar[str] = "audit_event"
    event_id: str
    operation_type: str
    operation_date: datetime
    resource_type: str | None = None
    customer_tenant_id: str | None = None
    customer_name: str | None = None
    status: str | None = None

    @property
    def key(self) -> str:
        return self.event_id


RECORD_TYPES: tuple[type[Record], ...] = (
    Customer,
    CspSubscription,
    Contract,
    GdapRelationship,
    GdapAccessAssignment,
    SubscribedSku,
    DirectorySubscription,
    ActiveUsers,
    AzureSubscription,
    PalLink,
    Identity,
    Attribution,
    AzureUsage,
    LicenseUsage,
    AuditEvent,
)
"""The registry of record kinds; the store decodes rows through it."""

RECORD_BY_KIND: dict[str, type[Record]] = {cls.KIND: cls for cls in RECORD_TYPES}
