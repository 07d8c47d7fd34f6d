"""Partner Center's payloads: customers, subscriptions, usage, audit records, paging, errors."""

from __future__ import annotations

from typing import Any

from standin.emulator.shapes import derived_id, iso
from standin.scenario.model import (
    AzureSubscriptionSpec,
    CspSubscriptionSpec,
    CustomerSpec,
    Scenario,
)


def _link(uri: str) -> dict[str, Any]:
    return {"uri": uri, "method": "GET", "headers": []}


def pc_customer(c: CustomerSpec) -> dict[str, Any]:
    """partnercenter_customers_list.json / partnercenter_customer_get.json."""
    tenant = c.tenant_id.lower()
    profile: dict[str, Any] = {"tenantId": tenant, "companyName": c.name}
    if c.domain:
        profile["domain"] = c.domain
    profile["attributes"] = {"objectType": "CustomerCompanyProfile"}
    item: dict[str, Any] = {
        "id": tenant,
        "commerceId": derived_id("commerce", tenant),
        "companyProfile": profile,
        "relationshipToPartner": c.relationship,
    }
    if c.allow_delegated_access is not None:
        item["allowDelegatedAccess"] = c.allow_delegated_access
    if c.indirect_reseller is not None:
        item["associatedPartnerId"] = c.indirect_reseller.partner_id
    if c.domain:
        item["customDomains"] = [c.domain]
    item["links"] = {"self": _link(f"/customers/{tenant}")}
    item["attributes"] = {"objectType": "Customer"}
    return item


def pc_subscription(c: CustomerSpec, s: CspSubscriptionSpec) -> dict[str, Any]:
    """partnercenter_subscriptions_list.json (Subscription)."""
    tenant = c.tenant_id.lower()
    sid = s.id.lower()
    item: dict[str, Any] = {"id": sid}
    if s.offer_id:
        item["offerId"] = s.offer_id
    if s.offer_name:
        item["offerName"] = s.offer_name
        item["friendlyName"] = s.offer_name
    item["quantity"] = s.quantity
    item["unitType"] = "Usage-based" if s.billing_type == "usage" else "Licenses"
    if s.created is not None:
        item["creationDate"] = iso(s.created)
        start = s.created.replace(hour=0, minute=0, second=0, microsecond=0)
        item["effectiveStartDate"] = iso(start)
        item["commitmentEndDate"] = iso(
            start.replace(year=start.year + 1)
            if not (start.month == 2 and start.day == 29)
            else start.replace(year=start.year + 1, day=28)
        )
    item["status"] = s.status
    item["autoRenewEnabled"] = s.status == "active"
    item["isTrial"] = False
    item["billingType"] = s.billing_type
    item["billingCycle"] = "monthly" if s.billing_type == "license" else "none"
    if s.billing_type == "license":
        item["termDuration"] = "P1Y"
    if s.partner_id:
        item["partnerId"] = s.partner_id
    item["contractType"] = "subscription"
    links: dict[str, Any] = {}
    if s.offer_id:
        links["offer"] = _link(f"/offers/{s.offer_id}?country=US")
    links["self"] = _link(f"/customers/{tenant}/subscriptions/{sid}")
    item["links"] = links
    item["orderId"] = derived_id("order", sid)
    item["attributes"] = {"etag": derived_id("etag", sid), "objectType": "Subscription"}
    return item


def pc_audit_record(scenario: Scenario, event: Any) -> dict[str, Any]:
    """partnercenter_auditrecords.json (AuditRecord). ``customerName`` is left out: the
    connector contract (standin.answers) does not carry it."""
    item: dict[str, Any] = {
        "id": event.id,
        "partnerId": scenario.partner.tenant_id.lower(),
    }
    if event.customer_tenant_id:
        item["customerId"] = event.customer_tenant_id.lower()
    item.update(
        {
            "userPrincipalName": "admin@partner.onmicrosoft.com",
            "applicationId": scenario.partner.app.client_id.lower(),
            "resourceType": event.resource_type,
            "resourceNewValue": "{}",
            "operationType": event.operation_type,
            "operationDate": iso(event.date, fraction=True),
            "operationStatus": event.status,
            "customizedData": [],
            "attributes": {"objectType": "AuditRecord"},
        }
    )
    return item


def pc_usage_record(a: AzureSubscriptionSpec) -> dict[str, Any]:
    """partnercenter_subscription_usagerecords.json (SubscriptionMonthlyUsageRecord)."""
    sid = a.subscription_id.lower()
    item: dict[str, Any] = {"status": "active"}
    if a.partner_on_record:
        item["partnerOnRecord"] = a.partner_on_record
    item["offerId"] = "DZH318Z0BPS6:0001:DZH318Z0BML6"
    item["resourceId"] = sid
    item["id"] = sid
    if a.display_name:
        item["resourceName"] = a.display_name
        item["name"] = a.display_name
    item.update(
        {
            "totalCost": a.acr_usd,
            "currencyCode": "USD",
            "usdTotalCost": a.acr_usd,
            "lastModifiedDate": "2026-10-31T17:09:26.16+00:00",
            "attributes": {"objectType": "SubscriptionMonthlyUsageRecord"},
        }
    )
    return item


def pc_licence_usage(c: CustomerSpec, lu: Any) -> dict[str, Any]:
    """partnercenter_licenses_usage_customer.json (CustomerLicensesUsageInsights)."""
    item: dict[str, Any] = {
        "customerName": c.name,
        "productName": lu.product,
        "licensesActive": lu.active,
        "licensesQualified": lu.qualified,
        "usagePercent": round(lu.active / lu.qualified * 100, 2) if lu.qualified else 0.0,
    }
    if lu.workload:
        item["workloadName"] = lu.workload
    item.update(
        {
            "processedDateTime": f"{c.usage.report_refresh_date}T00:00:00+00:00",
            "serviceName": "o365",
            "channel": "reseller",
            "attributes": {"objectType": "CustomerLicensesUsageInsights"},
        }
    )
    return item


def pc_collection(
    items: list[dict[str, Any]],
    total: int,
    self_uri: str,
    next_uri: str | None,
    token: str | None,
) -> dict[str, Any]:
    """A Partner Center collection with seek paging (§1.2, partnercenter_paging_next_link)."""
    links: dict[str, Any] = {"self": _link(self_uri)}
    body: dict[str, Any] = {"totalCount": total, "items": items, "links": links}
    if next_uri is not None and token is not None:
        links["next"] = {
            "uri": next_uri,
            "method": "GET",
            "headers": [{"key": "MS-ContinuationToken", "value": token}],
        }
        body["continuationToken"] = token
    body["attributes"] = {"objectType": "Collection"}
    return body


def pc_error(code: int, description: str) -> dict[str, Any]:
    """partnercenter_error_no_relationship.json."""
    return {"code": code, "description": description, "data": [], "source": "PartnerFD"}


def pc_throttled(seconds: str) -> dict[str, Any]:
    """partnercenter_throttle_429.json."""
    return {
        "statusCode": 429,
        "message": f"Rate limit is exceeded. Try again in {seconds} seconds.",
    }
