"""Microsoft Graph: contracts, GDAP relationships, licences, service principals, the partner's
application, the Office 365 usage report, and the directory's view of app permissions (a
service principal by application id and its app role assignments: the roles the emulator's
tokens carry in that tenant, :mod:`standin.scenario.permissions`).

Each call is throttled in its documented family (identity, multi-tenant, reports) and, for an
app token, checked against the application roles the endpoint needs. Listings page with
``$top``/``$skiptoken`` and ``@odata.nextLink``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from connectors.records.scope import Source
from standin.emulator.apis.paging import encode_token, window
from standin.emulator.errors import error
from standin.emulator.limits import (
    GRAPH_GLOBAL_APP,
    GRAPH_IDENTITY_APP,
    GRAPH_MULTI_TENANT,
    GRAPH_MULTI_TENANT_APP,
    GRAPH_REPORTS_APP,
    GRAPH_REPORTS_TENANT,
    Limit,
    graph_identity_cost,
    graph_identity_limit,
)
from standin.emulator.routing import Call, RouteTable
from standin.emulator.shapes import derived_id, iso
from standin.emulator.shapes import graph as shapes
from standin.emulator.tokens import Principal
from standin.emulator.wire import Answer, Reply, json_reply
from standin.scenario.model import CustomerSpec
from standin.scenario.permissions import allowed
from standin.scenario.world import ServicePrincipal

if TYPE_CHECKING:
    from standin.emulator.service import Service

ROUTES: RouteTable[Service] = RouteTable("graph")

GRAPH_AUDIENCE = "https://graph.microsoft.com"

_GDAP_FILTER = re.compile(
    r"^\s*(?P<field>status|customer/tenantId)\s+eq\s+'(?P<value>[^']*)'\s*$", re.IGNORECASE
)
_APP_FILTER = re.compile(r"^\s*appId\s+eq\s+'(?P<app>[^']+)'\s*$", re.IGNORECASE)


def guard(svc: Service, call: Call, family: str, resource: str, needs: str) -> Principal:
    """Authenticate, throttle in the call's limit ``family`` and check the app's roles."""
    principal = svc.authenticate(call, (GRAPH_AUDIENCE,))
    svc.throttle(call, _checks(call, principal, family, resource))
    if not principal.user and not allowed(principal.roles, needs):
        raise Answer(
            error(
                call,
                403,
                "Insufficient privileges to complete the operation.",
                "Authorization_RequestDenied",
            )
        )
    return principal


def _checks(
    call: Call, principal: Principal, family: str, resource: str
) -> list[tuple[Limit, str, int]]:
    """The (limit, key, cost) a Graph call counts against, by throttling family."""
    app, tenant = principal.app_id, principal.tenant_id
    checks: list[tuple[Limit, str, int]] = [(GRAPH_GLOBAL_APP, app, 1)]
    if family == "multi_tenant":
        checks += [
            (GRAPH_MULTI_TENANT_APP, f"{app}/{tenant}", 1),
            (GRAPH_MULTI_TENANT, tenant, 1),
        ]
    elif family == "reports":
        checks += [
            (GRAPH_REPORTS_APP, f"{app}/{tenant}/{resource}", 1),
            (GRAPH_REPORTS_TENANT, f"{tenant}/{resource}", 1),
        ]
    else:
        top = call.req.arg("$top")
        cost = graph_identity_cost(
            resource,
            select=call.req.arg("$select") is not None,
            top=int(top) if top and top.isdigit() else None,
        )
        checks += [
            (graph_identity_limit(call.world.users(tenant)), f"{app}/{tenant}", cost),
            (GRAPH_IDENTITY_APP, app, cost),
        ]
        call.headers["x-ms-resource-unit"] = str(cost)
    return checks


def listing(
    svc: Service,
    call: Call,
    source: Source,
    scope: str,
    items: Sequence[Any],
    context: str,
    shape: Callable[[Any], dict[str, Any]] | None = None,
) -> Reply:
    """One page of a Graph collection; ``shape`` turns only that page's items into payloads."""
    offset, size = window(call, source, call.req.arg("$top"), call.req.arg("$skiptoken"))
    page = offset // size + 1
    fault = svc.fault(call, source, scope, page=page)
    chunk = [shape(x) if shape else x for x in items[offset : offset + size]]
    total = len(items)
    more = offset + size < total
    if fault is not None:
        more = False
        total = max(total, offset + len(chunk) + 1)
    body: dict[str, Any] = {
        "@odata.context": f"https://graph.microsoft.com/v1.0/$metadata#{context}"
    }
    if (call.req.arg("$count") or "").lower() == "true":
        body["@odata.count"] = total
    body["value"] = chunk
    if more:
        params = {k: v[0] for k, v in call.req.query.items() if k.lower() != "$skiptoken"}
        params["$skiptoken"] = encode_token(offset + size)
        body["@odata.nextLink"] = (
            f"{call.req.origin}{call.req.path}?{urlencode(params, quote_via=quote, safe='$')}"
        )
    return json_reply(200, body)


@ROUTES.route(r"^/(?:v1\.0|beta)/contracts$")
def graph_contracts(svc: Service, call: Call) -> Reply:
    guard(svc, call, "identity", "contracts", "contracts")
    world = call.world
    customers = []
    if call.tenant == world.partner_tenant:
        customers = [c for c in world.scenario.customers if c.contract_type]
    return listing(
        svc, call, Source.GRAPH_CONTRACTS, "partner", customers, "contracts", shapes.graph_contract
    )


@ROUTES.route(r"^/(?:v1\.0|beta)/tenantRelationships/delegatedAdminRelationships$")
def graph_gdap(svc: Service, call: Call) -> Reply:
    guard(svc, call, "multi_tenant", "delegatedAdminRelationships", "gdap")
    world = call.world
    pairs = []
    if call.tenant == world.partner_tenant:
        pairs = list(world.gdap_pairs)
    raw = call.req.arg("$filter")
    if raw:
        for clause in re.split(r"\s+and\s+", raw, flags=re.IGNORECASE):
            match = _GDAP_FILTER.match(clause)
            if match is None:
                raise Answer(error(call, 400, f"Unsupported filter: {raw}"))
            value = match["value"].lower()
            if match["field"].lower() == "status":
                pairs = [(c, g) for c, g in pairs if g.status.lower() == value]
            else:
                pairs = [(c, g) for c, g in pairs if c.tenant_id.lower() == value]

    def shape(pair: tuple[CustomerSpec, Any]) -> dict[str, Any]:
        item = shapes.graph_gdap(*pair)
        if not pair[1].display_name:
            item.pop("displayName")
        return item

    return listing(
        svc,
        call,
        Source.GRAPH_GDAP,
        "partner",
        pairs,
        "tenantRelationships/delegatedAdminRelationships",
        shape,
    )


@ROUTES.route(
    r"^/(?:v1\.0|beta)/tenantRelationships/delegatedAdminRelationships/(?P<rid>[^/]+)"
    r"/accessAssignments$",
)
def graph_access_assignments(svc: Service, call: Call) -> Reply:
    guard(svc, call, "multi_tenant", "delegatedAdminRelationships", "gdap")
    world = call.world
    found = None
    if call.tenant == world.partner_tenant:
        found = world.relationships.get(call.params["rid"])
    if found is None:
        raise Answer(error(call, 404, f"Resource '{call.params['rid']}' does not exist."))
    items = [shapes.graph_access_assignment(found, a) for a in found.access_assignments]
    return listing(
        svc,
        call,
        Source.GRAPH_GDAP,
        "partner",
        items,
        f"tenantRelationships/delegatedAdminRelationships('{found.id}')/accessAssignments",
    )


@ROUTES.route(r"^/(?:v1\.0|beta)/subscribedSkus$")
def graph_subscribed_skus(svc: Service, call: Call) -> Reply:
    guard(svc, call, "identity", "subscribedSkus", "subscribedSkus")
    customer = call.world.customer(call.tenant)
    items = shapes.graph_skus(customer) if customer else []
    return listing(svc, call, Source.GRAPH_SKUS, call.scope(), items, "subscribedSkus")


@ROUTES.route(r"^/(?:v1\.0|beta)/directory/subscriptions$")
def graph_directory_subscriptions(svc: Service, call: Call) -> Reply:
    guard(svc, call, "identity", "directory/subscriptions", "directory/subscriptions")
    world = call.world
    customer = world.customer(call.tenant)
    items = (
        [
            shapes.graph_directory_subscription(world.scenario, customer, lic)
            for lic in customer.licences
        ]
        if customer
        else []
    )
    return listing(
        svc,
        call,
        Source.GRAPH_DIRECTORY_SUBSCRIPTIONS,
        call.scope(),
        items,
        "directory/subscriptions",
    )


@ROUTES.route(r"^/(?:v1\.0|beta)/servicePrincipals$")
def graph_service_principals(svc: Service, call: Call) -> Reply:
    guard(svc, call, "identity", "servicePrincipals", "servicePrincipals")
    world = call.world
    customer = world.customer(call.tenant)
    sps = list(world.principals(customer)) if customer else []
    raw = call.req.arg("$filter")
    if raw:
        match = _APP_FILTER.match(raw)
        if match is None:
            raise Answer(error(call, 400, f"Unsupported filter: {raw}"))
        sps = [sp for sp in sps if sp.app_id == match["app"].lower()]
    items = [shapes.graph_service_principal(sp) for sp in sps]
    return listing(svc, call, Source.GRAPH_IDENTITIES, call.scope(), items, "servicePrincipals")


@ROUTES.route(r"^/(?:v1\.0|beta)/applications\(appId='(?P<app>[^']+)'\)$")
def graph_application(svc: Service, call: Call) -> Reply:
    guard(svc, call, "identity", "applications", "applications")
    world = call.world
    found = world.app(call.params["app"]) if call.tenant == world.partner_tenant else None
    svc.fault_single(call, Source.GRAPH_IDENTITIES, call.scope())
    if found is None:
        raise Answer(
            error(
                call,
                404,
                f"Resource '{call.params['app']}' does not exist or "
                "one of its queried reference-property objects are "
                "not present.",
            )
        )
    body = {
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#applications/$entity",
        **shapes.graph_application(found[0], found[1], world.partner_tenant),
    }
    return json_reply(200, body)


@ROUTES.route(
    r"^/(?:v1\.0|beta)/reports/(?P<report>getOffice365ServicesUserCounts)"
    r"\(period='(?P<period>[^']*)'\)$",
)
def graph_report(svc: Service, call: Call) -> Reply:
    guard(svc, call, "reports", call.params["report"], "reports")
    period = call.params["period"].upper()
    if period not in ("D7", "D30", "D90", "D180"):
        raise Answer(error(call, 400, f"Invalid value '{period}' for parameter 'period'."))
    fault = svc.fault(call, Source.GRAPH_USAGE, call.scope())
    world = call.world
    customer = world.customer(call.tenant)
    if customer is None:
        customer = CustomerSpec(tenant_id=call.tenant, name="partner")
    content = shapes.office365_services_csv(customer, period)
    token = svc.downloads.add(content, "application/octet-stream", cut=fault is not None)
    return Reply(302, b"", {"Location": f"{call.req.origin}/_downloads/{token}"}, content_type=None)


# -- app permissions in the directory ----------------------------------------------------------

_BY_APP = r"^/(?:v1\.0|beta)/servicePrincipals\(appId='(?P<app>[^']+)'\)"
_CONTEXT = "https://graph.microsoft.com/v1.0/$metadata#"


def _client(call: Call, app_id: str) -> ServicePrincipal:
    """The service principal of one of the partner's apps in the call's tenant, or a 404."""
    world = call.world
    found = world.app(app_id)
    sp = None
    if found is not None and call.tenant == world.partner_tenant:
        name, app = found
        if app.status != "deleted":  # the home tenant holds a service principal of each app
            sp = ServicePrincipal(
                identity=name,
                app_id=app.client_id.lower(),
                object_id=derived_id("sp", call.tenant, app.client_id),
                enabled=app.status == "active",
                credential_expires=app.credential_expires,
                subscriptions=(),
                spec=None,
            )
    elif found is not None:
        sp = world.service_principal(call.tenant, found[0])
    if sp is None:
        raise Answer(
            error(
                call,
                404,
                f"Resource '{app_id}' does not exist or one of its queried reference-property "
                "objects are not present.",
                "Request_ResourceNotFound",
            )
        )
    return sp


@ROUTES.route(_BY_APP + r"$")
def service_principal_by_app(svc: Service, call: Call) -> Reply:
    guard(svc, call, "identity", "servicePrincipals", "servicePrincipals")
    app_id = call.params["app"].lower()
    if app_id == shapes.GRAPH_APP_ID:
        granted = {r for name, _ in call.world.apps.values() for r in _granted(call, name)}
        body = shapes.graph_resource(call.tenant, tuple(sorted(granted)))
    else:
        body = shapes.graph_service_principal(_client(call, app_id))
    return json_reply(200, {"@odata.context": f"{_CONTEXT}servicePrincipals/$entity", **body})


def _granted(call: Call, identity: str) -> tuple[str, ...]:
    return call.world.graph_roles(call.tenant, identity)


@ROUTES.route(_BY_APP + r"/appRoleAssignments$")
def app_role_assignments(svc: Service, call: Call) -> Reply:
    guard(svc, call, "identity", "servicePrincipals", "servicePrincipals")
    sp = _client(call, call.params["app"].lower())
    created = iso(call.world.scenario.clock, fraction=True)
    items = [
        shapes.app_role_assignment(call.tenant, sp.object_id, sp.identity, role, created)
        for role in _granted(call, sp.identity)
    ]
    return json_reply(200, {"@odata.context": f"{_CONTEXT}appRoleAssignments", "value": items})
