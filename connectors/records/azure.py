"""A customer's Azure: its subscriptions and their plan usage."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar


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
