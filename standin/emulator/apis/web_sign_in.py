"""Entra ID's web sign-in: what ``/authorize`` answers and the ``authorization_code`` grant of
the token endpoint (the OAuth authorization-code flow with PKCE that MSAL's
``initiate_auth_code_flow`` and ``acquire_token_by_auth_code_flow`` drive). The routes are the
login API's (:mod:`standin.emulator.apis.login`); this is what they do.

``/authorize`` approves at once, with no page to fill in: it signs in the tenant's
administrator, or the user its ``login_hint`` names (any user principal name: the emulator
keeps no user list, and derives the user's object id from the name), and sends the browser
back to ``redirect_uri`` with ``code`` and ``state``: in the query of a redirect, or with
``response_mode=form_post`` in a page whose form posts them there (what Entra answers, script
and all; a client that runs no script submits the form itself). What it cannot send back (an unknown
tenant or app, a missing or malformed ``redirect_uri``) is a 400 page, as Entra shows one.
The code grant answers with an ID token that carries the user's name, object id, user
principal name and the ``nonce`` of the request.
"""

from __future__ import annotations

import html
import uuid
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit

from standin.emulator.codes import Approval
from standin.emulator.routing import Call
from standin.emulator.tokens import (
    RESOURCES,
    TokenRefused,
    admin_upn,
    client_info,
    resource_of,
    user_object_id,
)
from standin.emulator.wire import Reply, json_reply

if TYPE_CHECKING:
    from standin.emulator.service import Service

GRAPH = "https://graph.microsoft.com"
"""The resource a sign-in that asks for no API's scope gets its access token for (as Entra
does: the OpenID scopes alone are Graph's)."""
_USERS = uuid.UUID("7d1e5b0c-3c55-4f0e-9a41-6a3d2b1c0e77")


def authorize(svc: Service, call: Call) -> Reply:
    """``/authorize``: approve at once and send the browser back with a code."""
    req = call.req
    tenant = call.params["tenant"].lower()
    if not call.world.known_tenant(tenant):
        return _page(400, "AADSTS90002", f"Tenant '{tenant}' not found.")
    client_id = (req.arg("client_id") or "").lower()
    if call.world.app(client_id) is None:
        return _page(
            400, "AADSTS700016", f"Application with identifier '{client_id}' was not found."
        )
    redirect_uri = req.arg("redirect_uri") or ""
    target = urlsplit(redirect_uri)
    if target.scheme not in ("http", "https") or not target.netloc or target.fragment:
        return _page(400, "AADSTS50011", "The redirect URI specified in the request is not valid.")
    state, post = req.arg("state"), req.arg("response_mode") == "form_post"
    if req.arg("response_type") != "code":
        return _back(redirect_uri, state, post, error="unsupported_response_type")
    method = req.arg("code_challenge_method") or "plain"
    if method not in ("S256", "plain"):
        return _back(redirect_uri, state, post, error="invalid_request")
    oid, upn, name = _user(tenant, req.arg("login_hint"))
    approval = Approval(
        tenant_id=tenant,
        client_id=client_id,
        redirect_uri=redirect_uri,
        scope=req.arg("scope") or "openid",
        nonce=req.arg("nonce"),
        challenge=req.arg("code_challenge"),
        method=method,
        oid=oid,
        upn=upn,
        name=name,
    )
    code = svc.authority.codes.issue(approval)
    return _back(redirect_uri, state, post, code=code, session_state=str(uuid.uuid4()))


def _user(tenant: str, hint: str | None) -> tuple[str, str, str]:
    """(object id, user principal name, display name) of who signs in."""
    upn = (hint or "").strip().lower()
    if "@" not in upn:
        return user_object_id(tenant), admin_upn(tenant), "Partner administrator"
    local = upn.split("@", 1)[0].replace(".", " ")
    return str(uuid.uuid5(_USERS, f"{tenant}/{upn}")), upn, local.title()


def _back(redirect_uri: str, state: str | None, post: bool, **params: str) -> Reply:
    """The browser sent back to the client with ``params`` (and ``state``): a redirect with
    them in the query, or (``post``) a page whose form posts them."""
    params = {**params, **({"state": state} if state is not None else {})}
    if post:
        e = html.escape
        fields = "".join(
            f'<input type="hidden" name="{e(k)}" value="{e(v)}"/>' for k, v in params.items()
        )
        page = (
            "<html><head><title>Working...</title></head><body>"
            f'<form method="POST" name="hiddenform" action="{e(redirect_uri)}">{fields}'
            "<noscript><p>Script is disabled. Click Submit to continue.</p>"
            '<input type="submit" value="Submit"/></noscript></form>'
            "<script>document.forms[0].submit();</script></body></html>"
        )
        return Reply(200, page.encode("utf-8"), content_type="text/html; charset=utf-8")
    joiner = "&" if "?" in redirect_uri else "?"
    location = f"{redirect_uri}{joiner}{urlencode(params)}"
    return Reply(302, b"", {"Location": location}, content_type=None)


def _page(status: int, aadsts: str, text: str) -> Reply:
    body = (
        "<!doctype html><html><head><meta charset='utf-8'><title>Sign in</title></head><body>"
        f"<h1>Sorry, but we're having trouble signing you in.</h1><p>{aadsts}: "
        f"{html.escape(text)}</p></body></html>"
    )
    return Reply(status, body.encode("utf-8"), content_type="text/html; charset=utf-8")


def code_grant(
    svc: Service, call: Call, tenant: str, client_id: str, form: dict[str, str]
) -> Reply:
    """The token endpoint's ``authorization_code`` grant (the client already authenticated);
    raises :class:`TokenRefused`."""
    approval = svc.authority.codes.redeem(
        form.get("code", ""),
        client_id=client_id,
        tenant_id=tenant,
        redirect_uri=form.get("redirect_uri", ""),
        verifier=form.get("code_verifier", ""),
    )
    scope = form.get("scope") or approval.scope
    resource = resource_of(scope, form.get("resource"))[0] or GRAPH
    if resource not in RESOURCES:
        raise TokenRefused(
            "AADSTS500011",
            "invalid_resource",
            f"The resource principal named {resource} was not found in the tenant.",
        )
    user = (approval.oid, approval.upn)
    authority = svc.authority
    body: dict[str, Any] = {
        "token_type": "Bearer",
        "scope": scope,
        "expires_in": 3599,
        "ext_expires_in": 3599,
        "access_token": authority.access_token(
            tenant_id=tenant, app_id=client_id, audience=resource, object_id=user[0], user=user
        ),
        "refresh_token": authority.refresh_token(
            tenant_id=tenant, client_id=client_id, user_oid=user[0], upn=user[1]
        ),
        "id_token": authority.id_token(
            tenant_id=tenant,
            client_id=client_id,
            issuer=f"{call.req.origin}/{tenant}/v2.0",
            oid=user[0],
            upn=user[1],
            name=approval.name,
            nonce=approval.nonce,
        ),
    }
    if form.get("client_info") == "1":
        body["client_info"] = client_info(user[0], tenant)
    return json_reply(200, body)
