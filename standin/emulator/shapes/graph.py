"""Scenario facts in Microsoft's payload shapes (as in tests/fixtures/microsoft), and error bodies.

Pure functions: a scenario (plus the emulator's mutable PAL state) in, JSON-ready dicts out.
Optional facts the scenario leaves empty are omitted, as Microsoft omits them.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from standin.scenario.model import (
    AppSpec,
    AttributionSpec,
    AzureSubscriptionSpec,
    CspSubscriptionSpec,
    CustomerSpec,
    GdapSpec,
    LicenceSpec,
    Scenario,
)
from standin.scenario.world import ServicePrincipal

_NS = uuid.UUID("5f0c2a52-6a5e-4b8e-9d55-0d1f6f1e2a12")


def iso(when: datetime | None, *, fraction: bool = False) -> str | None:
    """UTC ``2024-02-10T11:24:42Z`` (or with 7 fractional digits, as Microsoft writes them)."""
    if when is None:
        return None
    when = when.astimezone(UTC)
    if fraction:
        return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond:06d}0Z"
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def derived_id(*parts: str) -> str:
    return str(uuid.uuid5(_NS, "/".join(p.lower() for p in parts)))


def _link(uri: str) -> dict[str, Any]:
    return {"uri": uri, "method": "GET", "headers": []}


# --- Partner Center --------------------------------------------------------------------------


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


# --- Insights --------------------------------------------------------------------------------

INSIGHTS_COLUMNS: tuple[str, ...] = (
    "CustomerTenantId",
    "CustomerName",
    "WorkloadName",
    "SubscriptionId",
    "Month",
    "MPNId",
    "PartnerAttributionType",
    "MonthlyActiveUsers",
    "PaidAvailableUnits",
    "AvailableSeats",
    "ACR_USD",
)
"""Columns the emulator serves in every attribution dataset (a union of the documented
OfficeUsage, AzureUsage and DynamicsUsage columns, §1.9)."""

INSIGHTS_DATASETS: dict[str, tuple[str, ...]] = {
    "OfficeUsage": ("m365",),
    "AzureUsage": ("azure",),
    "DynamicsUsage": ("business_apps",),
    "EMSUsage": ("security",),
    "CustomersAndTenants": ("m365", "azure", "business_apps", "security"),
}
"""Dataset -> the scenario workloads whose attribution rows it holds. CustomersAndTenants holds
every row, so one query reads all attribution."""


def insights_rows(scenario: Scenario, dataset: str) -> list[dict[str, Any]]:
    kinds = INSIGHTS_DATASETS.get(dataset, ())
    rows: list[dict[str, Any]] = []
    for c in scenario.customers:
        for a in c.attribution:
            if a.workload.split(":", 1)[0].lower() not in kinds:
                continue
            rows.append(_insights_row(c, a))
    return rows


def _insights_row(c: CustomerSpec, a: AttributionSpec) -> dict[str, Any]:
    workload = a.workload.lower()
    sub = workload.split(":", 1)[1] if workload.startswith("azure:") else ""
    return {
        "CustomerTenantId": c.tenant_id.lower(),
        "CustomerName": c.name,
        "WorkloadName": workload,
        "SubscriptionId": sub,
        "Month": a.month,
        "MPNId": a.partner_id,
        "PartnerAttributionType": a.type,
        "MonthlyActiveUsers": "" if a.monthly_active_users is None else a.monthly_active_users,
        "PaidAvailableUnits": "" if a.seats is None else a.seats,
        "AvailableSeats": "" if a.seats is None else a.seats,
        "ACR_USD": "" if a.acr_usd is None else a.acr_usd,
    }


def insights_dataset(name: str) -> dict[str, Any]:
    """partnercenter_insights_dataset.json (one dataset)."""
    return {
        "datasetName": name,
        "selectableColumns": list(INSIGHTS_COLUMNS),
        "availableMetrics": ["CustomerCount", "CustomerTenantCount", "TotalMonthlyActiveUsers"],
        "availableDateRanges": [
            "LAST_MONTH",
            "LAST_3_MONTHS",
            "LAST_6_MONTHS",
            "LAST_1_YEAR",
            "LIFETIME",
        ],
        "minimumRecurrenceInterval": 24,
    }


def insights_envelope(
    value: list[Any],
    *,
    message: str | None = None,
    status: int = 200,
    total: int | None = None,
    next_link: str | None = None,
) -> dict[str, Any]:
    """The Insights API envelope (§1.9)."""
    return {
        "value": value,
        "nextLink": next_link,
        "totalCount": len(value) if total is None else total,
        "message": message,
        "statusCode": status,
        "dataRedacted": False,
    }


# --- Graph -----------------------------------------------------------------------------------


def graph_contract(c: CustomerSpec) -> dict[str, Any]:
    """graph_contracts_list.json."""
    tenant = c.tenant_id.lower()
    item: dict[str, Any] = {
        "id": derived_id("contract", tenant),
        "contractType": c.contract_type,
        "customerId": tenant,
        "displayName": c.name,
    }
    if c.domain:
        item["defaultDomainName"] = c.domain
    return item


_GDAP_DURATION = "P730D"


def graph_gdap(c: CustomerSpec, g: GdapSpec) -> dict[str, Any]:
    """graph_delegatedAdminRelationships_list.json."""
    item: dict[str, Any] = {
        "@odata.type": "#microsoft.graph.delegatedAdminRelationship",
        "@odata.etag": f'W/"{derived_id("gdap-etag", g.id)}"',
        "id": g.id,
        "displayName": g.display_name or g.id,
        "duration": _GDAP_DURATION,
        "customer": {"tenantId": c.tenant_id.lower(), "displayName": c.name},
        "accessDetails": {"unifiedRoles": [{"roleDefinitionId": r.lower()} for r in g.roles]},
        "status": g.status,
        "autoExtendDuration": g.auto_extend_duration,
        "createdDateTime": iso(g.activated, fraction=True),
        "lastModifiedDateTime": iso(g.activated, fraction=True),
        "activatedDateTime": iso(g.activated, fraction=True),
        "endDateTime": iso(g.ends, fraction=True),
    }
    return item


def graph_access_assignment(g: GdapSpec, a: Any) -> dict[str, Any]:
    """delegatedAdminAccessAssignment (GDOC resources/delegatedadminaccessassignment)."""
    return {
        "@odata.etag": f'W/"{derived_id("aa-etag", g.id, a.id)}"',
        "id": a.id,
        "status": a.status,
        "createdDateTime": iso(g.activated, fraction=True),
        "lastModifiedDateTime": iso(g.activated, fraction=True),
        "accessContainer": {
            "accessContainerId": a.group_id.lower(),
            "accessContainerType": "securityGroup",
        },
        "accessDetails": {"unifiedRoles": [{"roleDefinitionId": r.lower()} for r in a.roles]},
    }


def graph_skus(c: CustomerSpec) -> list[dict[str, Any]]:
    """graph_subscribedSkus.json: one entry per SKU, units summed over its subscriptions."""
    by_sku: dict[str, list[LicenceSpec]] = {}
    for lic in c.licences:
        by_sku.setdefault(lic.sku_id.lower(), []).append(lic)
    tenant = c.tenant_id.lower()
    out: list[dict[str, Any]] = []
    for sku_id, lics in by_sku.items():
        first = lics[0]
        out.append(
            {
                "accountName": c.name,
                "accountId": tenant,
                "appliesTo": "User",
                "capabilityStatus": first.capability_status,
                "consumedUnits": sum(x.consumed_units for x in lics),
                "id": f"{tenant}_{sku_id}",
                "prepaidUnits": {
                    "enabled": sum(x.enabled_units for x in lics),
                    "lockedOut": 0,
                    "suspended": 0,
                    "warning": 0,
                },
                "servicePlans": [],
                "skuId": sku_id,
                "skuPartNumber": first.sku_part_number,
                "subscriptionIds": [x.subscription_id.lower() for x in lics],
            }
        )
    return out


def graph_directory_subscription(
    scenario: Scenario, c: CustomerSpec, lic: LicenceSpec
) -> dict[str, Any]:
    """graph_directory_subscriptions.json (companySubscription)."""
    owner = (lic.owner_tenant_id or scenario.partner.tenant_id).lower()
    created = lic.created
    renews = None
    if created is not None:
        renews = created.replace(year=created.year + 1, day=min(created.day, 28))
    item: dict[str, Any] = {
        "createdDateTime": iso(created),
        "nextLifecycleDateTime": iso(renews),
    }
    item.update(
        {
            "commerceSubscriptionId": derived_id("commerce-sub", lic.subscription_id),
            "id": lic.subscription_id.lower(),
            "isTrial": lic.is_trial,
            "serviceStatus": [],
            "skuId": lic.sku_id.lower(),
            "skuPartNumber": lic.sku_part_number,
            "status": lic.capability_status,
            "totalLicenses": lic.enabled_units,
            "ownerId": owner,
            "ownerTenantId": owner,
            "ownerType": "Company",
        }
    )
    return item


def graph_service_principal(sp: ServicePrincipal) -> dict[str, Any]:
    """servicePrincipal (GDOC resources/serviceprincipal): the fields the connector reads."""
    return {
        "id": sp.object_id,
        "appId": sp.app_id,
        "displayName": sp.identity,
        "accountEnabled": sp.enabled,
        "servicePrincipalType": "Application",
    }


def graph_application(name: str, app: AppSpec, partner_tenant: str) -> dict[str, Any]:
    """application (GDOC resources/application) with its credentials' end dates."""
    end = iso(app.credential_expires)
    passwords: list[dict[str, Any]] = []
    keys: list[dict[str, Any]] = []
    if end is not None:
        passwords.append(
            {
                "keyId": derived_id("password", app.client_id),
                "displayName": "partnerlink",
                "hint": app.client_secret[:3],
                "startDateTime": None,
                "endDateTime": end,
            }
        )
        for thumb in app.certificate_thumbprints:
            keys.append(
                {
                    "keyId": derived_id("key", app.client_id, thumb),
                    "customKeyIdentifier": thumb.upper(),
                    "displayName": f"CN={name}",
                    "type": "AsymmetricX509Cert",
                    "usage": "Verify",
                    "endDateTime": end,
                }
            )
    return {
        "id": derived_id("application", partner_tenant, app.client_id),
        "appId": app.client_id.lower(),
        "displayName": name,
        "signInAudience": "AzureADMultipleOrgs",
        "passwordCredentials": passwords,
        "keyCredentials": keys,
    }


OFFICE365_SERVICES_HEADER: tuple[str, ...] = (
    "Report Refresh Date",
    "Exchange Active",
    "Exchange Inactive",
    "OneDrive Active",
    "OneDrive Inactive",
    "SharePoint Active",
    "SharePoint Inactive",
    "Skype For Business Active",
    "Skype For Business Inactive",
    "Yammer Active",
    "Yammer Inactive",
    "Teams Active",
    "Teams Inactive",
    "Office 365 Active",
    "Office 365 Inactive",
    "Report Period",
)
"""graph_report_office365ServicesUserCounts.csv."""

_SERVICES_WORKLOADS = (
    "exchange",
    "onedrive",
    "sharepoint",
    "skype_for_business",
    "yammer",
    "teams",
    "office365",
)


def office365_services_csv(c: CustomerSpec, period: str) -> bytes:
    """The report's CSV: UTF-8 BOM, the documented header, one data row."""
    users = sum(lic.consumed_units for lic in c.licences)
    row: list[str] = [c.usage.report_refresh_date]
    for workload in _SERVICES_WORKLOADS:
        active = c.usage.active_users.get(workload, 0)
        row += [str(active), str(max(0, users - active))]
    row.append(period.lstrip("D"))
    text = ",".join(OFFICE365_SERVICES_HEADER) + "\r\n" + ",".join(row) + "\r\n"
    return b"\xef\xbb\xbf" + text.encode("utf-8")


def graph_error(code: str, message: str, request_id: str, date: str) -> dict[str, Any]:
    """graph_error_not_found.json / graph_error_throttled_429.json."""
    return {
        "error": {
            "code": code,
            "message": message,
            "innerError": {"date": date, "request-id": request_id, "client-request-id": request_id},
        }
    }


# --- ARM -------------------------------------------------------------------------------------


def arm_subscription(c: CustomerSpec, a: AzureSubscriptionSpec) -> dict[str, Any]:
    """arm_subscriptions_list.json."""
    sid = a.subscription_id.lower()
    return {
        "id": f"/subscriptions/{sid}",
        "subscriptionId": sid,
        "tenantId": c.tenant_id.lower(),
        "displayName": a.display_name or sid,
        "state": a.state,
        "subscriptionPolicies": {
            "locationPlacementId": "Public_2014-09-01",
            "quotaId": "CSP_2015-05-01",
            "spendingLimit": "Off",
        },
        "authorizationSource": "RoleBased",
        "managedByTenants": [{"tenantId": t.lower()} for t in a.managed_by_tenants],
        "tags": {},
    }


def arm_partner(
    partner_id: str,
    *,
    tenant_id: str,
    object_id: str,
    version: int,
    created: str,
    updated: str,
    partner_name: str | None = None,
) -> dict[str, Any]:
    """arm_managementpartner_get.json (real recording: integer version, no partnerName)."""
    props: dict[str, Any] = {"partnerId": partner_id}
    if partner_name:
        props["partnerName"] = partner_name
    props.update(
        {
            "tenantId": tenant_id,
            "objectId": object_id,
            "version": version,
            "updatedTime": updated,
            "createdTime": created,
            "state": "Active",
        }
    )
    return {
        "id": f"/providers/microsoft.managementpartner/partners/{partner_id}",
        "type": "Microsoft.ManagementPartner/partners",
        "name": partner_id,
        "etag": version,
        "properties": props,
    }


def arm_error(code: str, message: str, *, top_level: bool = False) -> dict[str, Any]:
    """ARM's error body; ManagementPartner repeats code and message at the top level
    (arm_managementpartner_notfound_error.json)."""
    body: dict[str, Any] = {"error": {"code": code, "message": message}}
    if top_level:
        body["code"] = code
        body["message"] = message
    return body


PAL_NOT_FOUND = "This user or service principal is not linked with a Partner ID"
PAL_INVALID = "The Partner ID is not valid"


# --- Login -----------------------------------------------------------------------------------


def aad_error(
    error: str,
    aadsts: str,
    description: str,
    *,
    trace_id: str,
    correlation_id: str,
    now: datetime,
) -> dict[str, Any]:
    """entra_token_error_invalid_client.json."""
    stamp = now.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    number = int(aadsts.removeprefix("AADSTS"))
    return {
        "error": error,
        "error_description": (
            f"{aadsts}: {description}\r\nTrace ID: {trace_id}\r\nCorrelation ID: "
            f"{correlation_id}\r\nTimestamp: {stamp}"
        ),
        "error_codes": [number],
        "timestamp": stamp,
        "trace_id": trace_id,
        "correlation_id": correlation_id,
        "error_uri": f"https://login.microsoftonline.com/error?code={number}",
    }


def openid_configuration(origin: str, tenant: str) -> dict[str, Any]:
    """entra_openid_configuration.json with every endpoint on this origin."""
    base = f"{origin}/{tenant}"
    return {
        "token_endpoint": f"{base}/oauth2/v2.0/token",
        "token_endpoint_auth_methods_supported": [
            "client_secret_post",
            "private_key_jwt",
            "client_secret_basic",
        ],
        "jwks_uri": f"{base}/discovery/v2.0/keys",
        "response_modes_supported": ["query", "fragment", "form_post"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
        "scopes_supported": ["openid", "profile", "email", "offline_access"],
        "issuer": f"{base}/v2.0",
        "request_uri_parameter_supported": False,
        "userinfo_endpoint": f"{origin}/oidc/userinfo",
        "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
        "device_authorization_endpoint": f"{base}/oauth2/v2.0/devicecode",
        "http_logout_supported": True,
        "frontchannel_logout_supported": True,
        "end_session_endpoint": f"{base}/oauth2/v2.0/logout",
        "claims_supported": [
            "sub",
            "iss",
            "cloud_instance_name",
            "cloud_instance_host_name",
            "cloud_graph_host_name",
            "msgraph_host",
            "aud",
            "exp",
            "iat",
            "auth_time",
            "acr",
            "nonce",
            "preferred_username",
            "name",
            "tid",
            "ver",
            "at_hash",
            "c_hash",
            "email",
        ],
        "kerberos_endpoint": f"{base}/kerberos",
        "tenant_region_scope": "WW",
        "cloud_instance_name": "microsoftonline.com",
        "cloud_graph_host_name": "graph.windows.net",
        "msgraph_host": "graph.microsoft.com",
        "rbac_url": "https://pas.windows.net",
    }
