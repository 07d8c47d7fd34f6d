"""The licences of a customer tenant: its subscribed SKUs and its directory (commercial)
subscriptions, each with who bought it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

from connectors.graph.connector import GraphConnector
from connectors.http.fields import flag, integer, name_text, nested, required, text
from connectors.records.licences import DirectorySubscription, SubscribedSku
from connectors.records.record import Record
from connectors.records.scope import ScopeKind, Source
from connectors.source_row import Cadence, Permission, SourceRow

__all__ = [
    "GraphDirectorySubscriptions",
    "GraphSubscribedSkus",
    "parse_directory_subscription",
    "parse_subscribed_sku",
]


def parse_subscribed_sku(
    item: Mapping[str, Any], customer_tenant_id: str, *, what: str = "subscribed SKUs"
) -> SubscribedSku:
    """A ``subscribedSku`` of the customer tenant."""
    return SubscribedSku(
        customer_tenant_id=customer_tenant_id.lower(),
        sku_id=required(item, "skuId", what=what).lower(),
        sku_part_number=name_text(item.get("skuPartNumber")),
        capability_status=text(item.get("capabilityStatus")),
        enabled_units=integer(nested(item, "prepaidUnits", "enabled")) or 0,
        consumed_units=integer(item.get("consumedUnits")) or 0,
    )


def parse_directory_subscription(
    item: Mapping[str, Any],
    customer_tenant_id: str,
    *,
    what: str = "directory subscriptions",
) -> DirectorySubscription:
    """A ``companySubscription``; ``ownerTenantId`` is who bought it (for CSP, the partner).

    ``commerce_subscription_id`` stays ``None``, as in the fake connectors (the contract).
    """
    return DirectorySubscription(
        customer_tenant_id=customer_tenant_id.lower(),
        subscription_id=required(item, "id", what=what).lower(),
        sku_id=(text(item.get("skuId")) or "").lower() or None,
        sku_part_number=name_text(item.get("skuPartNumber")),
        status=text(item.get("status")),
        total_licenses=integer(item.get("totalLicenses")),
        owner_tenant_id=(text(item.get("ownerTenantId")) or "").lower() or None,
        is_trial=flag(item.get("isTrial")),
    )


class GraphSubscribedSkus(GraphConnector):
    """``GET /v1.0/subscribedSkus`` in the customer tenant."""

    row = SourceRow(
        source=Source.GRAPH_SKUS,
        scope_kind=ScopeKind.CUSTOMER,
        kinds=(SubscribedSku.KIND,),
        page_size=100,
        permissions=(Permission("Organization.Read.All", ScopeKind.CUSTOMER),),
        cadence=Cadence.ON_CHANGE,
    )

    async def fetch(self, customer_tenant_id: str | None) -> AsyncIterator[Record]:
        tenant = self.customer(customer_tenant_id)
        what = self.what(tenant)
        async for item in self.listing(tenant, "/v1.0/subscribedSkus", what):
            yield parse_subscribed_sku(item, tenant, what=what)


class GraphDirectorySubscriptions(GraphConnector):
    """``GET /v1.0/directory/subscriptions`` in the customer tenant."""

    row = SourceRow(
        source=Source.GRAPH_DIRECTORY_SUBSCRIPTIONS,
        scope_kind=ScopeKind.CUSTOMER,
        kinds=(DirectorySubscription.KIND,),
        page_size=100,
        permissions=(Permission("Organization.Read.All", ScopeKind.CUSTOMER),),
        cadence=Cadence.ON_CHANGE,
    )

    async def fetch(self, customer_tenant_id: str | None) -> AsyncIterator[Record]:
        tenant = self.customer(customer_tenant_id)
        what = self.what(tenant)
        async for item in self.listing(tenant, "/v1.0/directory/subscriptions", what):
            yield parse_directory_subscription(item, tenant, what=what)
