"""What a customer tenant is licensed for and uses: SKUs, directory subscriptions, active
users per Microsoft 365 workload, licence usage insights.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar


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
