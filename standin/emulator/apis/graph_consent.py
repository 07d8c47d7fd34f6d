"""Microsoft Graph's side of getting the partner's app into a customer tenant through GDAP (as a
partner administrator, app+user, in the customer tenant):

* ``GET /servicePrincipals(appId='{id}')`` (served by :mod:`standin.emulator.apis.graph`): the
  app's service principal, or Microsoft Graph's with its ``appRoles``;
* ``GET /servicePrincipals/{id}/appRoleAssignments``: the Graph app roles the app holds there;
* ``POST /servicePrincipals/{graph}/appRoleAssignedTo``: grant one ("Grant an appRoleAssignment
  for a service principal",
  https://learn.microsoft.com/graph/api/serviceprincipal-post-approleassignedto); only a user
  with Privileged Role Administrator (or Global Administrator) may grant Microsoft Graph app roles
  ("Grant tenant-wide admin consent to an application", prerequisites,
  https://learn.microsoft.com/entra/identity/enterprise-apps/grant-admin-consent).

What is granted is kept in the world's grants, so the app's next token there carries the role.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import structlog

from standin.emulator.apis.graph import guard
from standin.emulator.errors import error
from standin.emulator.grants import GRAPH_APP_ROLE_ROLES
from standin.emulator.routing import Call, RouteTable
from standin.emulator.shapes import derived_id
from standin.emulator.shapes.graph import GRAPH_ROLES, graph_service_principal_id, role_id
from standin.emulator.wire import Answer, Reply, json_reply
from standin.scenario.permissions import DEFAULT_GRAPH_ROLES, GRAPH_NEEDS
from standin.scenario.world import ServicePrincipal, service_principals

if TYPE_CHECKING:
    from standin.emulator.service import Service

log = structlog.get_logger("standin.emulator")

ROUTES: RouteTable[Service] = RouteTable("graph")

GRAPH_APP_ROLES: tuple[str, ...] = tuple(
    sorted(
        {*GRAPH_ROLES, *DEFAULT_GRAPH_ROLES, *(r for roles in GRAPH_NEEDS.values() for r in roles)}
    )
)
"""The Graph app roles (application permissions) the emulator's Microsoft Graph offers."""


def _json(call: Call) -> dict[str, Any]:
    body = call.req.json()
    if not isinstance(body, dict):
        raise Answer(error(call, 400, "The request body must be a JSON object."))
    return body


def _principal(call: Call, object_id: str) -> ServicePrincipal | None:
    """One of the partner's service principals in the call's tenant, by its object id."""
    customer = call.world.customer(call.tenant)
    if customer is None:
        return None
    return next(
        (
            sp
            for sp in service_principals(call.world.scenario, customer)
            if sp.object_id == object_id
        ),
        None,
    )


def _assignment(tenant: str, sp: ServicePrincipal, role: str) -> dict[str, Any]:
    return {
        "id": derived_id("assignment", tenant, sp.object_id, role),
        "appRoleId": role_id(role),
        "principalId": sp.object_id,
        "principalDisplayName": sp.identity,
        "principalType": "ServicePrincipal",
        "resourceId": graph_service_principal_id(tenant),
        "resourceDisplayName": "Microsoft Graph",
    }


@ROUTES.route(r"^/(?:v1\.0|beta)/servicePrincipals/(?P<sp>[^/(]+)/appRoleAssignments$")
def graph_app_role_assignments(svc: Service, call: Call) -> Reply:
    guard(svc, call, "identity", "servicePrincipals", "servicePrincipals")
    sp = _principal(call, call.params["sp"].lower())
    if sp is None:
        raise Answer(error(call, 404, f"Resource '{call.params['sp']}' does not exist."))
    roles = call.world.graph_roles(call.tenant, sp.identity)
    return json_reply(200, {"value": [_assignment(call.tenant, sp, r) for r in roles]})


@ROUTES.route(r"^/(?:v1\.0|beta)/servicePrincipals/(?P<sp>[^/(]+)/appRoleAssignedTo$", "POST")
def graph_app_role_assigned_to(svc: Service, call: Call) -> Reply:
    principal = guard(svc, call, "identity", "servicePrincipals", "servicePrincipals")
    tenant = call.tenant
    if not principal.user or not call.world.gdap_roles(tenant) & GRAPH_APP_ROLE_ROLES:
        raise Answer(error(call, 403, "Insufficient privileges to complete the operation."))
    body = _json(call)
    resource = str(body.get("resourceId") or "").lower()
    if call.params["sp"].lower() != graph_service_principal_id(
        tenant
    ) or resource != graph_service_principal_id(tenant):
        raise Answer(error(call, 400, "resourceId must be the resource service principal."))
    sp = _principal(call, str(body.get("principalId") or "").lower())
    if sp is None:
        raise Answer(error(call, 400, "The principal was not found in the directory."))
    role = next((v for v in GRAPH_APP_ROLES if role_id(v) == body.get("appRoleId")), None)
    if role is None:
        raise Answer(error(call, 400, "appRoleId is not an app role of the resource."))
    if role in call.world.graph_roles(tenant, sp.identity) or not call.world.grants.assign_app_role(
        tenant, role
    ):
        raise Answer(
            error(call, 409, "Permission being assigned already exists on the object.", "Conflict")
        )
    log.info("emulator_app_role_assigned", tenant=tenant, identity=sp.identity, role=role)
    return json_reply(201, _assignment(tenant, sp, role))
