"""Azure Resource Manager's payloads: subscriptions, Partner Admin Links, errors."""

from __future__ import annotations

from typing import Any

from standin.scenario.model import AzureSubscriptionSpec, CustomerSpec


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
