"""The writes that get the partner's multi-tenant app into a customer tenant through GDAP, as
Microsoft documents it; only ``partnerlink access --apply`` sends them, as the partner
administrator (app+user), each at most once per run.

1. **Partner Center application consent** (partner tenant):
   ``POST /v1/customers/{customer}/applicationconsents`` with the app's id and the delegated
   Microsoft Graph scopes it needs for step 2 ("Get customer consent as a Control Panel Vendor",
   https://learn.microsoft.com/partner-center/developer/control-panel-vendor-apis). It creates
   the app's service principal in the customer tenant. The partner user needs a GDAP role that may
   consent there: Global, Privileged Role or Cloud Application Administrator ("Use the Exchange
   Online PowerShell v3 Module with GDAP and App Consent", prerequisites,
   https://learn.microsoft.com/powershell/partnercenter/exchange-online-gdap-app). A 409 means
   the app is already there. The same call is CIPP's "CPV consent" and the Partner Center
   PowerShell module's ``New-PartnerCustomerApplicationConsent``.
2. **Microsoft Graph app roles** (customer tenant, delegated through GDAP): the consent above
   grants delegated scopes only; each application permission the agent reads with is an app role
   assignment, ``POST /servicePrincipals/{graph}/appRoleAssignedTo``
   (https://learn.microsoft.com/graph/api/serviceprincipal-post-approleassignedto; delegated
   ``AppRoleAssignment.ReadWrite.All`` and ``Application.Read.All``). Granting Microsoft Graph
   app roles needs Privileged Role Administrator (or Global Administrator); Cloud Application and
   Application Administrators may grant any permission but those ("Grant tenant-wide admin
   consent to an application", prerequisites,
   https://learn.microsoft.com/entra/identity/enterprise-apps/grant-admin-consent). CIPP's
   ``Add-CIPPApplicationPermission`` makes the same call.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote

import structlog

from connectors.base import APP_USER
from connectors.endpoints import CloudEndpoints
from connectors.errors import MalformedResponse, PermanentError
from connectors.http.decode import json_object
from connectors.http.fields import guid, text
from connectors.http.redact import escape
from connectors.http.request import ApiRequest
from connectors.http.requester import Requester

__all__ = ["CONSENT_SCOPES", "GRAPH_APP_ID", "ConsentWriter"]

log = structlog.get_logger()

GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
"""Microsoft Graph's application id, the same in every tenant."""

CONSENT_SCOPES = ("Application.Read.All", "AppRoleAssignment.ReadWrite.All")
"""The delegated Graph scopes the consent grants: what step 2 needs, nothing more."""


class ConsentWriter:
    """Partner Center application consent and Graph app role assignments, as app+user."""

    def __init__(
        self, requester: Requester, endpoints: CloudEndpoints, *, partner_tenant_id: str
    ) -> None:
        self.requester = requester
        self.endpoints = endpoints
        self.partner_tenant_id = partner_tenant_id.lower()

    async def consent(self, tenant: str, app_id: str) -> str:
        """Consent the app into ``tenant``: ``created``, or ``already there`` (409)."""
        tenant = tenant.lower()
        body = {
            "applicationId": app_id.lower(),
            "applicationGrants": [
                {"enterpriseApplicationId": GRAPH_APP_ID, "scope": ",".join(CONSENT_SCOPES)}
            ],
        }
        request = ApiRequest(
            method="POST",
            url=f"{self.endpoints.partner_center_v1}/customers/{quote(tenant)}/applicationconsents",
            scope=f"pc:{self.partner_tenant_id}",
            what=f"application consent for {tenant}",
            tenant_id=self.partner_tenant_id,
            resource=self.endpoints.partner_center_resource,
            identity=APP_USER,
            json=body,
            partner_center=True,
        )
        try:
            await self.requester.send(request)
        except PermanentError as exc:
            if exc.status != 409:
                raise
            return "already there"
        log.info("application_consent_written", tenant=tenant, app_id=app_id.lower())
        return "created"

    def _graph(
        self,
        tenant: str,
        method: str,
        path: str,
        what: str,
        body: Any = None,
        identity: str | None = APP_USER,
    ) -> ApiRequest:
        return ApiRequest(
            method=method,
            url=f"{self.endpoints.graph}/v1.0{path}",
            scope=f"graph:{tenant}",
            what=what,
            tenant_id=tenant,
            resource=self.endpoints.graph_resource,
            identity=identity,
            headers={"client-request-id": str(uuid.uuid4())},
            json=body,
        )

    async def service_principal(
        self, tenant: str, app_id: str, *, identity: str | None = APP_USER
    ) -> Mapping[str, Any] | None:
        """The service principal of ``app_id`` in ``tenant`` (``None``: it has none), read as
        the partner administrator (or, ``identity=None``, as the partner's app)."""
        what = f"service principal of {app_id} in {tenant}"
        path = f"/servicePrincipals(appId='{quote(app_id)}')"
        request = self._graph(tenant, "GET", path, what, identity=identity)
        try:
            return json_object(await self.requester.send(request), what)
        except PermanentError as exc:
            if exc.status == 404:
                return None
            raise

    async def _held(self, tenant: str, principal: str) -> set[str]:
        what = f"app role assignments of {principal} in {tenant}"
        request = self._graph(
            tenant, "GET", f"/servicePrincipals/{principal}/appRoleAssignments", what
        )
        body = json_object(await self.requester.send(request), what)
        items = body.get("value")
        if not isinstance(items, list):
            raise MalformedResponse(f"{what}: no 'value' list")
        return {r for r in (guid(i.get("appRoleId")) for i in items if isinstance(i, Mapping)) if r}

    async def grant_graph_roles(
        self, tenant: str, app_id: str, roles: Iterable[str]
    ) -> dict[str, str]:
        """Assign the app the Microsoft Graph app roles it lacks in ``tenant``: per role,
        ``granted``, ``already held`` or ``not offered by Microsoft Graph``."""
        tenant = tenant.lower()
        ours = await self.service_principal(tenant, app_id)
        graph = await self.service_principal(tenant, GRAPH_APP_ID)
        principal = guid(ours.get("id")) if ours else None
        resource = guid(graph.get("id")) if graph else None
        if principal is None or resource is None:
            raise PermanentError(
                f"app roles in {tenant}: the app or Microsoft Graph has no service principal there"
            )
        offered = _app_roles(graph or {})
        held = await self._held(tenant, principal)
        outcome: dict[str, str] = {}
        for role in roles:
            role_id = offered.get(role)
            if role_id is None:
                outcome[role] = "not offered by Microsoft Graph"
            elif role_id in held:
                outcome[role] = "already held"
            else:
                outcome[role] = await self._assign(tenant, resource, principal, role, role_id)
        return outcome

    async def _assign(
        self, tenant: str, resource: str, principal: str, role: str, role_id: str
    ) -> str:
        body = {"principalId": principal, "resourceId": resource, "appRoleId": role_id}
        what = f"app role {role} for {principal} in {tenant}"
        request = self._graph(
            tenant, "POST", f"/servicePrincipals/{resource}/appRoleAssignedTo", what, body
        )
        try:
            await self.requester.send(request)
        except PermanentError as exc:
            if exc.status != 409:
                raise
            return "already held"
        log.info("app_role_written", tenant=tenant, principal=principal, role=escape(role))
        return "granted"


def _app_roles(service_principal: Mapping[str, Any]) -> dict[str, str]:
    """Application permissions a resource offers: value -> app role id."""
    roles: dict[str, str] = {}
    for item in service_principal.get("appRoles") or []:
        if not isinstance(item, Mapping) or "Application" not in (
            item.get("allowedMemberTypes") or []
        ):
            continue
        value, role_id = text(item.get("value")), guid(item.get("id"))
        if value and role_id:
            roles[value] = role_id
    return roles
