"""Microsoft Graph's payloads: contracts, GDAP, licences, identities, usage reports, errors, and
the directory's view of app permissions: Microsoft Graph's own service principal with the app
roles it defines, and the app role assignments a client service principal holds (GDOC
resources/serviceprincipal, resources/approleassignment)."""

from __future__ import annotations

import base64
from typing import Any

from standin.emulator.shapes import derived_id, iso
from standin.scenario.model import AppSpec, CustomerSpec, GdapSpec, LicenceSpec, Scenario
from standin.scenario.permissions import GRAPH_NEEDS
from standin.scenario.world import ServicePrincipal, app_credentials


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
    """graph_directory_subscriptions.json (companySubscription). ``ownerTenantId`` is "the
    Microsoft partner tenant that created the subscription on a customer tenant"; ``ownerId``
    is "the object ID of the account admin" and ``ownerType`` "the entity that ownerId belongs
    to, for example, 'User'" (Graph, companySubscription resource type)."""
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
            "ownerId": derived_id("account-admin", owner),
            "ownerTenantId": owner,
            "ownerType": "User",
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
    """application (GDOC resources/application) with its secrets and certificates: a secret's
    ``hint`` is its first characters; a certificate's ``customKeyIdentifier`` is base64 of its
    SHA-1 thumbprint (an ``Edm.Binary``, as Graph sends it)."""
    passwords: list[dict[str, Any]] = []
    keys: list[dict[str, Any]] = []
    for cred in app_credentials(app, name):
        item: dict[str, Any] = {
            "keyId": cred.key_id,
            "displayName": cred.name,
            "startDateTime": None,
            "endDateTime": iso(cred.ends),
        }
        if cred.kind == "secret":
            passwords.append({**item, "hint": app.client_secret[:3]})
        else:
            assert cred.thumbprint is not None
            thumb = base64.b64encode(bytes.fromhex(cred.thumbprint)).decode("ascii")
            keys.append(
                {
                    **item,
                    "customKeyIdentifier": thumb,
                    "type": "AsymmetricX509Cert",
                    "usage": "Verify",
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


# -- app permissions in the directory ----------------------------------------------------------

GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
"""Microsoft Graph's application id, the same in every tenant."""

_KNOWN_ROLE_IDS = {
    "Directory.Read.All": "7ab1d382-f21e-4acd-a863-ba3e13f7da61",
    "Application.Read.All": "9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30",
    "Organization.Read.All": "498476ce-e0fe-48b0-b801-37ba7e2685c6",
    "Reports.Read.All": "230c1aed-a721-4c5d-9cb4-a90514e508ef",
}
"""The ids Microsoft Graph gives these application roles; the others are derived here. The
agent never relies on an id: it reads them from Graph's service principal in each tenant."""

GRAPH_ROLES: tuple[str, ...] = tuple(
    sorted({role for roles in GRAPH_NEEDS.values() for role in roles} | set(_KNOWN_ROLE_IDS))
)
"""Every Graph application role the emulator knows."""


def role_id(role: str) -> str:
    return _KNOWN_ROLE_IDS.get(role) or derived_id("graph-app-role", role)


def graph_service_principal_id(tenant: str) -> str:
    """Object id of Microsoft Graph's service principal in a tenant (one per tenant)."""
    return derived_id("graph-sp", tenant)


def graph_resource(tenant: str, extra_roles: tuple[str, ...] = ()) -> dict[str, Any]:
    """Microsoft Graph's service principal in ``tenant``, with the application roles it
    defines (``extra_roles``: any a scenario grants that the emulator does not list)."""
    roles = sorted(set(GRAPH_ROLES) | set(extra_roles))
    return {
        "id": graph_service_principal_id(tenant),
        "appId": GRAPH_APP_ID,
        "displayName": "Microsoft Graph",
        "accountEnabled": True,
        "servicePrincipalType": "Application",
        "appRoles": [
            {
                "allowedMemberTypes": ["Application"],
                "description": f"Allows the app to use {role} without a signed-in user.",
                "displayName": role,
                "id": role_id(role),
                "isEnabled": True,
                "origin": "Application",
                "value": role,
            }
            for role in roles
        ],
    }


def app_role_assignment(
    tenant: str, principal_id: str, principal_name: str, role: str, created: str | None
) -> dict[str, Any]:
    """One Graph application role assigned to a client service principal."""
    return {
        "id": derived_id("app-role-assignment", tenant, principal_id, role),
        "deletedDateTime": None,
        "appRoleId": role_id(role),
        "createdDateTime": created,
        "principalDisplayName": principal_name,
        "principalId": principal_id,
        "principalType": "ServicePrincipal",
        "resourceDisplayName": "Microsoft Graph",
        "resourceId": graph_service_principal_id(tenant),
    }
