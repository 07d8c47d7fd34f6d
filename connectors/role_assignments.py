"""The Azure role assignment that lets the partner's app read a customer's subscription; only
``partnerlink access --apply`` sends it, as the partner administrator (app+user) in the customer
tenant through GDAP.

``PUT {arm}/subscriptions/{id}/providers/Microsoft.Authorization/roleAssignments/{name}
?api-version=2022-04-01`` with the role definition and the principal ("Assign Azure roles using
the REST API", https://learn.microsoft.com/azure/role-based-access-control/role-assignments-rest).
The caller needs ``Microsoft.Authorization/roleAssignments/write`` on the subscription: on a CSP
subscription the partner's Admin Agents (foreign principal) hold Owner, which a partner user in
that group brings. The assignment's name is derived from subscription, principal and role, so a
second run writes the same one; ``RoleAssignmentExists`` (409) means it is already there.
"""

from __future__ import annotations

import uuid
from urllib.parse import quote

import structlog

from connectors.base import APP_USER
from connectors.endpoints import CloudEndpoints
from connectors.errors import PermanentError
from connectors.http.request import ApiRequest
from connectors.http.requester import Requester

__all__ = ["READER", "ROLE_ASSIGNMENTS_API", "RoleAssignmentWriter", "assignment_name"]

log = structlog.get_logger()

READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
"""The built-in Reader role's definition id ("Azure built-in roles", Reader,
https://learn.microsoft.com/azure/role-based-access-control/built-in-roles)."""

ROLE_ASSIGNMENTS_API = "2022-04-01"
_NAMESPACE = uuid.UUID("0d5c7a2e-3b1f-4f59-9a8e-6c2f1e7b9d41")


def assignment_name(subscription: str, principal: str, role: str) -> str:
    """The role assignment's name: the same for the same subscription, principal and role."""
    return str(uuid.uuid5(_NAMESPACE, f"{subscription.lower()}/{principal.lower()}/{role}"))


class RoleAssignmentWriter:
    """Azure role assignments on customers' subscriptions, as app+user."""

    def __init__(self, requester: Requester, endpoints: CloudEndpoints) -> None:
        self.requester = requester
        self.endpoints = endpoints

    async def assign(
        self, tenant: str, subscription: str, principal: str, role: str = READER
    ) -> str:
        """Give ``principal`` (a service principal's object id) ``role`` on the subscription:
        ``assigned`` or ``already assigned``."""
        tenant, sub = tenant.lower(), subscription.lower()
        scope = f"/subscriptions/{quote(sub)}"
        name = assignment_name(sub, principal, role)
        request = ApiRequest(
            method="PUT",
            url=f"{self.endpoints.arm}{scope}/providers/Microsoft.Authorization/roleAssignments/{name}",
            params={"api-version": ROLE_ASSIGNMENTS_API},
            scope=f"arm:{tenant}/{APP_USER}",
            what=f"role assignment on {sub} in {tenant}",
            tenant_id=tenant,
            resource=self.endpoints.arm_resource,
            identity=APP_USER,
            json={
                "properties": {
                    "roleDefinitionId": f"{scope}/providers/Microsoft.Authorization/"
                    f"roleDefinitions/{role}",
                    "principalId": principal.lower(),
                    "principalType": "ServicePrincipal",
                }
            },
        )
        try:
            await self.requester.send(request)
        except PermanentError as exc:
            if exc.status != 409 or (exc.code or "RoleAssignmentExists") != "RoleAssignmentExists":
                raise
            return "already assigned"
        log.info("role_assignment_written", tenant=tenant, subscription=sub, principal=principal)
        return "assigned"
