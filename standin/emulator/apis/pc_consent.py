"""Partner Center's application consent: getting the partner's multi-tenant app into a customer
tenant through GDAP, as Microsoft documents it ("Get customer consent as a Control Panel Vendor",
https://learn.microsoft.com/partner-center/developer/control-panel-vendor-apis).

``POST /v1/customers/{id}/applicationconsents`` (app+user, partner tenant) creates the app's
service principal in the customer tenant with the delegated Graph scopes asked; the partner user
needs a GDAP role that may consent (:data:`~standin.emulator.grants.CONSENT_ROLES`); 409 where
the app is already there. The consent is kept in the world's grants, so the app's next sign-in
in that tenant succeeds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import structlog

from connectors.base import PARTNER_APP
from standin.emulator.apis.partner_center import guard
from standin.emulator.errors import error
from standin.emulator.grants import CONSENT_ROLES
from standin.emulator.routing import Call, RouteTable
from standin.emulator.wire import Answer, Reply, json_reply

if TYPE_CHECKING:
    from standin.emulator.service import Service

log = structlog.get_logger("standin.emulator")

ROUTES: RouteTable[Service] = RouteTable("pc")


def _json(call: Call) -> dict[str, Any]:
    body = call.req.json()
    if not isinstance(body, dict):
        raise Answer(error(call, 400, "The request body must be a JSON object."))
    return body


@ROUTES.route(r"^/v1/customers/(?P<cid>[^/]+)/applicationconsents$", "POST")
def pc_application_consent(svc: Service, call: Call) -> Reply:
    tenant = call.params["cid"].lower()
    guard(svc, call, customer=tenant, user=True)
    world = call.world
    customer = world.customer(tenant)
    if customer is None or customer.relationship is None:
        raise Answer(error(call, 403, "No relationship between caller and account.", 20002))
    if not world.gdap_roles(tenant) & CONSENT_ROLES:
        raise Answer(
            error(
                call,
                403,
                "The user has no GDAP role in this customer tenant that may consent to an "
                "application (Global, Privileged Role, Cloud Application or Application "
                "Administrator).",
                600045,
            )
        )
    body = _json(call)
    app_id = str(body.get("applicationId") or body.get("ApplicationId") or "").lower()
    found = world.app(app_id)
    if found is None or found[0] != PARTNER_APP:
        raise Answer(error(call, 400, f"Application {app_id or '(none)'} is not ours.", 600001))
    grants = body.get("applicationGrants") or body.get("ApplicationGrants") or []
    scopes = _scopes(grants)
    if customer.consented:
        raise Answer(error(call, 409, "Permission entry already exists.", 600041))
    world.grants.consent(tenant, scopes)
    log.info("emulator_consent_granted", tenant=tenant, scopes=",".join(scopes))
    return json_reply(201, {"applicationId": app_id, "applicationGrants": grants})


def _scopes(grants: Any) -> tuple[str, ...]:
    """The delegated scopes of ``applicationGrants`` (each grant's comma-separated ``scope``)."""
    return tuple(
        sorted(
            scope.strip()
            for grant in (grants if isinstance(grants, list) else [])
            if isinstance(grant, dict)
            for scope in str(grant.get("scope") or grant.get("Scope") or "").split(",")
            if scope.strip()
        )
    )
