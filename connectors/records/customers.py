"""The partner's customers: who they are in Partner Center and Graph, what the partner sold
them through CSP, and the audit feed of changes to them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar


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
