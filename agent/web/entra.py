"""Signing people in to the daemon's page with Microsoft Entra ID: the OAuth authorization-code
flow with PKCE, through MSAL's ``ConfidentialClientApplication`` (``initiate_auth_code_flow``,
``acquire_token_by_auth_code_flow``), against the configured authority.

The flow in flight is kept here, keyed by its ``state``, for ten minutes and one use; the
browser that started it carries the same ``state`` in a signed cookie, so a code posted to
another browser is refused (login CSRF). Over https the answer comes back as a form post
(``response_mode=form_post``, as MSAL and RFC 9700 recommend: the code never sits in a URL);
on a loopback ``http`` address, in the query of a redirect. MSAL checks the state, the PKCE
verifier and the nonce; the ID token's audience, tenant, issuer and expiry are checked here.
"""

from __future__ import annotations

import threading
import time
import warnings
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx
import msal

from agent.auth.apps import MICROSOFT_LOGIN_HOSTS
from agent.auth.msal_http import MsalHttpClient
from agent.web.roles import Identity
from connectors.errors import MalformedResponse

FLOW_LIFETIME = 600.0
"""Seconds between starting a sign-in and coming back with its code."""
FLOWS_KEPT = 1000
"""Sign-ins in flight kept at once; the oldest is dropped first."""


class SignInFailed(Exception):
    """A sign-in that did not succeed; the message says why, fit for the person's page."""


class EntraSignIn:
    def __init__(
        self,
        *,
        client_id: str,
        client_secret: str,
        authority: str,
        tenant_id: str,
        redirect_uri: str,
        http: httpx.Client,
    ) -> None:
        self.client_id = client_id
        self.authority = authority.rstrip("/")
        self.tenant_id = tenant_id
        self.redirect_uri = redirect_uri
        self.form_post = redirect_uri.startswith("https://")
        self._secret = client_secret
        self._http = MsalHttpClient(http)
        self._app: msal.ConfidentialClientApplication | None = None
        self._flows: OrderedDict[str, tuple[dict[str, Any], float]] = OrderedDict()
        self._lock = threading.Lock()

    def begin(self, login_hint: str | None = None) -> tuple[str, str]:
        """Start a sign-in: (where to send the browser, the flow's state)."""
        hint = {"login_hint": login_hint} if login_hint else {}
        with self._lock:
            app = self._client()
            with warnings.catch_warnings():
                # Over loopback http the code comes back in the query (no form_post without a
                # Secure cookie to bind it); MSAL warns about exactly that choice.
                warnings.filterwarnings("ignore", message="response_mode='form_post'")
                flow = app.initiate_auth_code_flow(
                    [],
                    redirect_uri=self.redirect_uri,
                    response_mode="form_post" if self.form_post else "query",
                    **hint,
                )
            self._flows[flow["state"]] = (flow, time.monotonic() + FLOW_LIFETIME)
            while len(self._flows) > FLOWS_KEPT:
                self._flows.popitem(last=False)
        return str(flow["auth_uri"]), str(flow["state"])

    def finish(self, state: str | None, answer: Mapping[str, str]) -> Identity:
        """Redeem what came back for the browser whose cookie holds ``state``."""
        if "error" in answer:
            said = answer.get("error_description") or answer["error"]
            raise SignInFailed(f"Microsoft refused the sign-in: {said.splitlines()[0][:300]}")
        if not state or answer.get("state") != state:
            raise SignInFailed("this sign-in was not started in this browser: start again")
        with self._lock:
            kept = self._flows.pop(state, None)
            if kept is None or kept[1] < time.monotonic():
                raise SignInFailed("the sign-in took too long or was used already: start again")
            try:
                result = self._client().acquire_token_by_auth_code_flow(kept[0], dict(answer))
            except ValueError as exc:  # MSAL: state or nonce mismatch
                raise SignInFailed(f"the sign-in's answer does not match it ({exc})") from None
            except (httpx.HTTPError, OSError, MalformedResponse) as exc:
                raise SignInFailed(_unreachable(exc)) from None
        if "error" in result:
            said = str(result.get("error_description") or result["error"])
            raise SignInFailed(f"Microsoft refused the sign-in: {said.splitlines()[0][:300]}")
        return self._identity(result.get("id_token_claims") or {})

    def _identity(self, claims: Mapping[str, Any]) -> Identity:
        """Who the ID token names, once it is shown to be for this app, tenant and time."""
        audience = claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        if self.client_id not in audiences:
            raise SignInFailed("the ID token is for another app")
        if str(claims.get("tid", "")).lower() != self.tenant_id:
            raise SignInFailed("you signed in to another tenant than this page's")
        if claims.get("iss") != f"{self.authority}/v2.0":
            raise SignInFailed("the ID token comes from another issuer")
        expires = claims.get("exp")
        if not isinstance(expires, int | float) or expires < time.time():
            raise SignInFailed("the ID token has expired: sign in again")
        upn = str(claims.get("preferred_username") or claims.get("upn") or "").lower()
        oid = str(claims.get("oid") or "").lower()
        if not upn or not oid:
            raise SignInFailed("the ID token names no user")
        groups = tuple(str(g).lower() for g in claims.get("groups") or ())
        return Identity(str(claims.get("name") or upn), upn, oid, groups)

    def _client(self) -> msal.ConfidentialClientApplication:
        if self._app is None:
            host = urlsplit(self.authority).hostname or ""
            try:
                self._app = msal.ConfidentialClientApplication(
                    self.client_id,
                    client_credential=self._secret,
                    authority=self.authority,
                    http_client=self._http,
                    instance_discovery=host in MICROSOFT_LOGIN_HOSTS,
                )
            except (httpx.HTTPError, OSError, ValueError, MalformedResponse) as exc:
                raise SignInFailed(_unreachable(exc)) from None
        return self._app


def _unreachable(exc: Exception) -> str:
    return f"the sign-in authority cannot be reached ({type(exc).__name__}): try again later"
