"""Azure role assignments: ``PUT /subscriptions/{id}/providers/Microsoft.Authorization/
roleAssignments/{name}`` ("Assign Azure roles using the REST API",
https://learn.microsoft.com/azure/role-based-access-control/role-assignments-rest).

The caller needs ``Microsoft.Authorization/roleAssignments/write`` on the subscription: in the
emulator, a partner administrator signed in to the customer tenant through GDAP (the partner's
Admin Agents hold Owner on the customer's CSP subscriptions). What is assigned is kept in the
world's grants, so the identity's next ``GET /subscriptions`` lists the subscription.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import structlog

from standin.emulator.apis.arm import guard
from standin.emulator.errors import error
from standin.emulator.grants import ROLE_DEFINITIONS, holder_of
from standin.emulator.routing import Call, RouteTable
from standin.emulator.wire import Answer, Reply, json_reply
from standin.scenario.model import CustomerSpec
from standin.scenario.world import ServicePrincipal, service_principals

if TYPE_CHECKING:
    from standin.emulator.service import Service

log = structlog.get_logger("standin.emulator")

ROUTES: RouteTable[Service] = RouteTable("arm")


def _writable(call: Call) -> tuple[CustomerSpec, str]:
    """The customer and subscription of the call, once its caller may assign roles there."""
    principal = call.principal
    assert principal is not None  # authenticated by the route's guard
    world = call.world
    tenant = principal.tenant_id
    sub = call.params["sub"].lower()
    customer = world.customer(tenant)
    subs = {a.subscription_id.lower() for a in customer.azure_subscriptions} if customer else set()
    if customer is None or sub not in subs:
        raise Answer(
            error(
                call, 404, f"The subscription '{sub}' could not be found.", "SubscriptionNotFound"
            )
        )
    if not principal.user or not world.gdap_active(tenant):
        raise Answer(
            error(
                call,
                403,
                f"The client '{principal.object_id}' does not have authorization to perform "
                "action 'Microsoft.Authorization/roleAssignments/write' over scope "
                f"'/subscriptions/{sub}'.",
                "AuthorizationFailed",
            )
        )
    return customer, sub


def _assigned(call: Call, customer: CustomerSpec) -> tuple[str, str, ServicePrincipal]:
    """The role definition id, its role name and the service principal the body names."""
    body = call.req.json()
    props: dict[str, Any] = body.get("properties", {}) if isinstance(body, dict) else {}
    definition = str(props.get("roleDefinitionId") or "").lower().rsplit("/", 1)[-1]
    role = ROLE_DEFINITIONS.get(definition)
    if role is None:
        raise Answer(
            error(call, 400, "The role definition does not exist.", "RoleDefinitionDoesNotExist")
        )
    target = str(props.get("principalId") or "").lower()
    sp = next(
        (s for s in service_principals(call.world.scenario, customer) if s.object_id == target),
        None,
    )
    if sp is None:
        raise Answer(
            error(
                call,
                400,
                f"Principal {target} does not exist in the directory.",
                "PrincipalNotFound",
            )
        )
    return definition, role, sp


@ROUTES.route(
    r"^/subscriptions/(?P<sub>[^/]+)/providers/Microsoft\.Authorization/roleAssignments/"
    r"(?P<name>[^/]+)$",
    "PUT",
)
def arm_role_assignment(svc: Service, call: Call) -> Reply:
    guard(svc, call)
    customer, sub = _writable(call)
    definition, role, sp = _assigned(call, customer)
    if holder_of(customer, sp.identity, sub) is not None:
        raise Answer(
            error(call, 409, "The role assignment already exists.", "RoleAssignmentExists")
        )
    tenant = customer.tenant_id.lower()
    call.world.grants.assign_azure_role(tenant, sp.identity, sub, role)
    log.info("emulator_role_assigned", tenant=tenant, identity=sp.identity, subscription=sub)
    scope = f"/subscriptions/{sub}"
    name = call.params["name"]
    return json_reply(
        201,
        {
            "id": f"{scope}/providers/Microsoft.Authorization/roleAssignments/{name}",
            "name": name,
            "type": "Microsoft.Authorization/roleAssignments",
            "properties": {
                "roleDefinitionId": f"{scope}/providers/Microsoft.Authorization/roleDefinitions/"
                f"{definition}",
                "principalId": sp.object_id,
                "principalType": "ServicePrincipal",
                "scope": scope,
            },
        },
    )
