"""Azure Resource Manager: the subscriptions an identity can see, and its Partner Admin Link
(``Microsoft.ManagementPartner``), which the identity reads, sets, changes and removes itself.

Listings page with ``nextLink``; a truncated listing hands out a skip token that has expired.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import structlog

from connectors.records.scope import Source
from standin.emulator.apis.paging import encode_token, window
from standin.emulator.errors import error
from standin.emulator.limits import ARM_DELETES, ARM_READS, ARM_WRITES, arm_remaining_headers
from standin.emulator.routing import Call, RouteTable
from standin.emulator.shapes import arm as shapes
from standin.emulator.tokens import Principal
from standin.emulator.wire import Answer, Reply, json_reply
from standin.scenario.world import visible_subscriptions

if TYPE_CHECKING:
    from standin.emulator.service import Service

log = structlog.get_logger("standin.emulator")

ROUTES: RouteTable[Service] = RouteTable("arm")

ARM_AUDIENCES = ("https://management.azure.com", "https://management.core.windows.net")
PAL_API_VERSION = "2018-02-01"
PARTNER_ID = re.compile(r"^[0-9]{6,10}$")


def guard(svc: Service, call: Call) -> Principal:
    """Authenticate and throttle an ARM call (reads, writes and deletes apart, per principal)."""
    principal = svc.authenticate(call, ARM_AUDIENCES)
    limit = {"GET": ARM_READS, "DELETE": ARM_DELETES}.get(call.req.method, ARM_WRITES)
    key = f"{principal.object_id}/{principal.tenant_id}"
    seen = svc.throttle(call, [(limit, key, 1)])
    call.headers.update(arm_remaining_headers(call.req.path, seen))
    if not call.req.arg("api-version"):
        raise Answer(
            error(
                call,
                400,
                "The api-version query parameter (?api-version=) is required for all requests.",
                "MissingApiVersionParameter",
            )
        )
    return principal


def listing(
    svc: Service,
    call: Call,
    source: Source,
    scope: str,
    items: list[dict[str, Any]],
) -> Reply:
    """One page of an ARM collection."""
    offset, size = window(call, source, call.req.arg("$top"), call.req.arg("$skiptoken"))
    page = offset // size + 1
    fault = svc.fault(call, source, scope, page=page)
    chunk = items[offset : offset + size]
    more = offset + size < len(items)
    body: dict[str, Any] = {"value": chunk}
    params = {k: v[0] for k, v in call.req.query.items() if k.lower() != "$skiptoken"}
    if fault is not None:
        params["$skiptoken"] = "expired-" + encode_token(offset + size)
        body["nextLink"] = f"{call.req.origin}{call.req.path}?{urlencode(params)}"
    elif more:
        params["$skiptoken"] = encode_token(offset + size)
        body["nextLink"] = f"{call.req.origin}{call.req.path}?{urlencode(params)}"
    return json_reply(200, body)


@ROUTES.route(r"^/subscriptions$")
def arm_subscriptions(svc: Service, call: Call) -> Reply:
    principal = guard(svc, call)
    world = call.world
    customer = world.customer(principal.tenant_id)
    items = []
    if customer is not None and call.identity is not None:
        visible = set(
            visible_subscriptions(
                world.scenario,
                customer,
                call.identity,
                principals=world.principals(customer),
            )
        )
        items = [
            shapes.arm_subscription(customer, a)
            for a in customer.azure_subscriptions
            if a.subscription_id.lower() in visible
        ]
    return listing(svc, call, Source.ARM_SUBSCRIPTIONS, call.scope(), items)


@ROUTES.route(r"^/subscriptions/(?P<sid>[^/]+)$")
def arm_subscription(svc: Service, call: Call) -> Reply:
    """One subscription: 200 where the identity holds a role on it, 403 ``AuthorizationFailed``
    where it exists but the identity holds none, 404 ``SubscriptionNotFound`` elsewhere."""
    principal = guard(svc, call)
    world = call.world
    customer = world.customer(principal.tenant_id)
    sid = call.params["sid"].lower()
    spec = None
    if customer is not None:
        spec = next(
            (a for a in customer.azure_subscriptions if a.subscription_id.lower() == sid), None
        )
    if customer is None or spec is None:
        raise Answer(
            error(
                call,
                404,
                f"The subscription '{sid}' could not be found.",
                "SubscriptionNotFound",
            )
        )
    visible = visible_subscriptions(
        world.scenario, customer, call.identity or "", principals=world.principals(customer)
    )
    if sid not in visible:
        raise Answer(
            error(
                call,
                403,
                f"The client '{principal.app_id}' with object id '{principal.object_id}' does "
                "not have authorization to perform action 'Microsoft.Resources/subscriptions/"
                f"read' over scope '/subscriptions/{sid}' or the scope is invalid. If access "
                "was recently granted, please refresh your credentials.",
                "AuthorizationFailed",
            )
        )
    return json_reply(200, shapes.arm_subscription(customer, spec))


def _pal_body(call: Call) -> dict[str, Any] | None:
    world = call.world
    identity = call.identity or "unknown"
    state = world.pal_state(call.tenant, identity)
    if state.partner_id is None:
        return None
    sp = world.service_principal(call.tenant, identity)
    object_id = sp.object_id if sp else (call.principal.object_id if call.principal else "")
    return shapes.arm_partner(
        state.partner_id,
        tenant_id=call.tenant,
        object_id=object_id,
        version=state.version,
        created=state.created,
        updated=state.updated,
    )


def _pal_not_found() -> Answer:
    return Answer(
        json_reply(
            404, shapes.arm_error("ManagementPartnerNotFound", shapes.PAL_NOT_FOUND, top_level=True)
        )
    )


@ROUTES.route(r"^/providers/Microsoft\.ManagementPartner/partners$")
def arm_pal(svc: Service, call: Call) -> Reply:
    guard(svc, call)
    svc.fault_single(call, Source.ARM_PAL, call.scope(), identity=call.identity)
    body = _pal_body(call)
    if body is None:
        raise _pal_not_found()
    return json_reply(200, body)


@ROUTES.route(
    r"^/providers/Microsoft\.ManagementPartner/partners/(?P<pid>[^/]+)$",
    "GET",
    "PUT",
    "PATCH",
    "DELETE",
)
def arm_pal_by_id(svc: Service, call: Call) -> Reply:
    guard(svc, call)
    world = call.world
    identity = call.identity or "unknown"
    partner_id = call.params["pid"]
    current = world.pal_state(call.tenant, identity).partner_id
    method = call.req.method
    if method == "GET":
        svc.fault_single(call, Source.ARM_PAL, call.scope(), identity=call.identity)
        body = _pal_body(call)
        if body is None or current != partner_id:
            raise _pal_not_found()
        return json_reply(200, body)
    if method == "DELETE":
        if current is None:
            return Reply(204, b"", content_type=None)
        world.set_pal(call.tenant, identity, None)
        log.info("emulator_pal_deleted", tenant=call.tenant, identity=identity)
        return Reply(200, b"", content_type=None)
    if not PARTNER_ID.match(partner_id):
        raise Answer(
            json_reply(
                400, shapes.arm_error("PartnerIdInvalid", shapes.PAL_INVALID, top_level=True)
            )
        )
    if method == "PATCH" and current is None:
        raise _pal_not_found()
    world.set_pal(call.tenant, identity, partner_id)
    log.info("emulator_pal_set", tenant=call.tenant, identity=identity, partner_id=partner_id)
    body = _pal_body(call)
    return json_reply(200, body)
