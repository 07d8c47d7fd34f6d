"""Entra ID: OpenID discovery, the device-code flow and the token endpoint (app and app+user;
the web sign-in's ``/authorize`` and code grant, whose workings are
:mod:`standin.emulator.apis.web_sign_in`).

The tokens themselves are minted and checked by :mod:`standin.emulator.tokens`; this module
decides whether a sign-in succeeds, and what the answer looks like when it does not.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from standin.emulator.apis import web_sign_in
from standin.emulator.apis.client_auth import DEVICE_GRANT, authenticate_client, basic_auth
from standin.emulator.errors import aad_error
from standin.emulator.routing import Call, RouteTable
from standin.emulator.shapes import derived_id
from standin.emulator.shapes.login import openid_configuration as openid_document
from standin.emulator.tokens import (
    RESOURCES,
    TokenRefused,
    admin_upn,
    client_info,
    resource_of,
    user_object_id,
)
from standin.emulator.wire import Answer, Reply, json_reply
from standin.emulator.world import World
from standin.scenario.model import AppSpec
from standin.scenario.world import sign_in_refusal

if TYPE_CHECKING:
    from standin.emulator.service import Service

ROUTES: RouteTable[Service] = RouteTable("login")

DEVICE_INTERVAL = 1
"""Seconds between device-code polls (Entra says 5; the emulator approves at once anyway)."""

_REFUSAL_ERRORS = {
    "AADSTS700016": "unauthorized_client",
    "AADSTS7000229": "invalid_client",
    "AADSTS7000112": "unauthorized_client",
}


def _tenant_or_refuse(call: Call) -> str:
    tenant = call.params["tenant"].lower()
    if not call.world.known_tenant(tenant):
        raise Answer(
            aad_error(
                400,
                "invalid_tenant",
                "AADSTS90002",
                f"Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID "
                "and are signing into the correct cloud.",
            )
        )
    return tenant


@ROUTES.route(r"^/(?P<tenant>[^/]+)(?:/v2\.0)?/\.well-known/openid-configuration$")
def openid_configuration(svc: Service, call: Call) -> Reply:
    tenant = _tenant_or_refuse(call)
    return json_reply(200, openid_document(call.req.origin, tenant))


@ROUTES.route(r"^/(?P<tenant>[^/]+)/oauth2/v2\.0/devicecode$", "POST")
def device_code(svc: Service, call: Call) -> Reply:
    tenant = _tenant_or_refuse(call)
    form = call.req.form()
    client_id = (form.get("client_id") or "").lower()
    if call.world.app(client_id) is None:
        raise Answer(_unknown_app(client_id, tenant))
    code = svc.authority.device_code(
        tenant_id=tenant, client_id=client_id, scope=form.get("scope", ""), lifetime=900
    )
    user_code = uuid.uuid4().hex[:9].upper()
    uri = f"{call.req.origin}/devicelogin"
    return json_reply(
        200,
        {
            "user_code": user_code,
            "device_code": code,
            "verification_uri": uri,
            "expires_in": 900,
            "interval": DEVICE_INTERVAL,
            "message": f"To sign in, use a web browser to open the page {uri} and enter the code "
            f"{user_code} to authenticate.",
        },
    )


@ROUTES.route(r"^/devicelogin$")
def device_login_page(svc: Service, call: Call) -> Reply:
    page = (
        b"<html><body><p>partnerlink emulator: device codes are approved automatically.</p>"
        b"</body></html>"
    )
    return Reply(200, page, content_type="text/html; charset=utf-8")


@ROUTES.route(r"^/(?P<tenant>[^/]+)/oauth2/v2\.0/authorize$")
def authorize(svc: Service, call: Call) -> Reply:
    """The web sign-in's authorization endpoint: approves at once (no page to fill in)."""
    return web_sign_in.authorize(svc, call)


def _unknown_app(client_id: str, tenant: str) -> Reply:
    return aad_error(
        400,
        "unauthorized_client",
        "AADSTS700016",
        f"Application with identifier '{client_id}' was not found in the directory "
        f"'{tenant}'. This can happen if the application has not been installed by the "
        "administrator of the tenant or consented to by any user in the tenant.",
    )


@ROUTES.route(r"^/(?P<tenant>[^/]+)/oauth2(?:/v2\.0)?/token$", "POST")
def token(svc: Service, call: Call) -> Reply:
    tenant = _tenant_or_refuse(call)
    world = call.world
    form = call.req.form()
    basic = basic_auth(call.req.header("authorization"))
    client_id = (form.get("client_id") or (basic[0] if basic else "")).lower()
    found = world.app(client_id)
    if found is None:
        return _unknown_app(client_id, tenant)
    name, app = found
    scope = "partner" if tenant == world.partner_tenant else tenant
    spec = svc.take_fault(call, "login", scope, identity=name, label="token")
    if spec is not None:
        if spec.kind != "truncated":
            return svc.fault_reply(call, spec)
        call.cut = True  # the token answer is cut short on the wire
    try:
        return _grant(svc, call, tenant, client_id, name, app, form, basic)
    except TokenRefused as refused:
        return aad_error(refused.status, refused.error, refused.aadsts, refused.description)


def _grant(
    svc: Service,
    call: Call,
    tenant: str,
    client_id: str,
    name: str,
    app: AppSpec,
    form: dict[str, str],
    basic: tuple[str, str] | None,
) -> Reply:
    """Authenticate the client, then answer its grant; raises :class:`TokenRefused`."""
    world = call.world
    grant = form.get("grant_type", "")
    certificate = authenticate_client(svc.authority, call, form, basic, app, client_id, grant)
    _refuse_sign_in(world, tenant, name, client_id)
    scope_text = form.get("scope")
    device = None
    if grant == DEVICE_GRANT:
        if tenant != world.partner_tenant:
            raise TokenRefused(
                "AADSTS50020", "invalid_grant", "User account does not exist in tenant."
            )
        # RFC 8628: the poll names no scope; the device code remembers it.
        device = svc.authority.poll_device_code(form.get("device_code", ""), client_id=client_id)
        scope_text = scope_text or device.scope
    if grant == "authorization_code":
        return web_sign_in.code_grant(svc, call, tenant, client_id, form)
    resource = _resource(scope_text, form, tenant)
    if grant == "client_credentials":
        return _app_token(svc, call, tenant, name, client_id, resource, certificate)
    if grant == "refresh_token":
        redeemed = svc.authority.redeem_refresh_token(
            form.get("refresh_token", ""),
            tenant_id=tenant,
            client_id=client_id,
            delegated=tenant != world.partner_tenant and world.gdap_active(tenant),
        )
        user = (redeemed.user_oid, redeemed.upn)
        return _user_token(svc, call, tenant, client_id, resource, user, certificate, form)
    if device is not None:
        user = (user_object_id(tenant), admin_upn(tenant))
        form = {**form, "scope": scope_text or ""}
        return _user_token(svc, call, tenant, client_id, resource, user, certificate, form)
    raise TokenRefused(
        "AADSTS70003",
        "unsupported_grant_type",
        f"The app requested an unsupported grant type '{grant}'.",
    )


def _refuse_sign_in(world: World, tenant: str, name: str, client_id: str) -> None:
    """Raise :class:`TokenRefused` where the scenario refuses the app a token in the tenant."""
    customer = world.customer(tenant)
    refusal = sign_in_refusal(
        world.scenario,
        customer,
        name,
        principals=world.principals(customer) if customer is not None else None,
    )
    if refusal is not None:
        raise TokenRefused(
            refusal.aadsts,
            _REFUSAL_ERRORS.get(refusal.aadsts, "invalid_client"),
            _refusal_text(refusal.aadsts, client_id, tenant),
            400,
        )


def _resource(scope_text: str | None, form: dict[str, str], tenant: str) -> str:
    """The resource a token request names, which must be one the emulator serves."""
    resource, _offline = resource_of(scope_text, form.get("resource"))
    if resource is None:
        raise TokenRefused(
            "AADSTS90014",
            "invalid_request",
            "The request body must contain the following parameter: 'scope'.",
        )
    if resource not in RESOURCES:
        raise TokenRefused(
            "AADSTS500011",
            "invalid_resource",
            f"The resource principal named {resource} was not found in the tenant named "
            f"{tenant}. This can happen if the application has not been installed by the "
            "administrator of the tenant or consented to by any user in the tenant.",
        )
    return resource


def _refusal_text(aadsts: str, client_id: str, tenant: str) -> str:
    return {
        "AADSTS7000229": f"The client application {client_id} is missing service principal in "
        f"the tenant {tenant}.",
        "AADSTS700016": f"Application with identifier '{client_id}' was not found in the "
        f"directory '{tenant}'.",
        "AADSTS7000112": f"Application '{client_id}' is disabled.",
        "AADSTS650052": "The app needs access to a service that your organization "
        f"'{tenant}' has not subscribed to or enabled. Contact your IT Admin to review the "
        "configuration of your service subscriptions.",
    }.get(aadsts, "The sign-in was refused.")


def _app_token(
    svc: Service,
    call: Call,
    tenant: str,
    name: str,
    client_id: str,
    resource: str,
    certificate: bool,
) -> Reply:
    world = call.world
    sp = world.service_principal(tenant, name)
    object_id = sp.object_id if sp else derived_id("sp", tenant, client_id)
    roles: tuple[str, ...] = ()
    if RESOURCES[resource] == "graph":
        # Like Entra: the roles of the app's service principal in the tenant the token is for.
        roles = world.graph_roles(tenant, name)
    access = svc.authority.access_token(
        tenant_id=tenant,
        app_id=client_id,
        audience=resource,
        object_id=object_id,
        roles=roles,
        certificate=certificate,
    )
    return json_reply(
        200,
        {
            "token_type": "Bearer",
            "expires_in": 3599,
            "ext_expires_in": 3599,
            "access_token": access,
        },
    )


def _user_token(
    svc: Service,
    call: Call,
    tenant: str,
    client_id: str,
    resource: str,
    user: tuple[str, str],
    certificate: bool,
    form: dict[str, str],
) -> Reply:
    """An app+user token answer for ``user`` (object id, UPN), with a rotated refresh token."""
    oid, upn = user
    access = svc.authority.access_token(
        tenant_id=tenant,
        app_id=client_id,
        audience=resource,
        object_id=oid,
        user=(oid, upn),
        certificate=certificate,
    )
    scopes = [
        s
        for s in form.get("scope", "").split()
        if s not in ("openid", "profile", "offline_access", "email")
    ]
    body: dict[str, Any] = {
        "token_type": "Bearer",
        "scope": " ".join(scopes) or f"{resource}/{'user_impersonation'}",
        "expires_in": 3599,
        "ext_expires_in": 3599,
        "access_token": access,
        "refresh_token": svc.authority.refresh_token(
            tenant_id=tenant, client_id=client_id, user_oid=oid, upn=upn
        ),
    }
    if "openid" in form.get("scope", "").split():
        body["id_token"] = svc.authority.id_token(
            tenant_id=tenant,
            client_id=client_id,
            issuer=f"{call.req.origin}/{tenant}/v2.0",
            oid=oid,
            upn=upn,
        )
    if form.get("client_info") == "1":
        body["client_info"] = client_info(oid, tenant)
    return json_reply(200, body)
