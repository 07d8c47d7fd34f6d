"""``/signin``, ``/auth/callback`` and ``/signout``: a person signs in with Entra ID
(:mod:`agent.web.entra`), gets the role ``[http.sign_in]`` gives them, and a session cookie
(signed, HttpOnly, SameSite=Lax, Secure and ``__Host-`` over https) that lasts
``session_lifetime``; signing out ends it in this browser.

The sign-in in flight is bound to the browser by a signed cookie holding its ``state`` and
where to go back to. Over https the code comes back as a cross-site form post, which a
SameSite=Lax cookie would not travel with: that one cookie is SameSite=None (and Secure), lives
ten minutes and is sent only to ``/auth``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from wsgiref.types import WSGIEnvironment

import structlog

from agent.web.entra import FLOW_LIFETIME, EntraSignIn, SignInFailed
from agent.web.gate import Gate, html
from agent.web.layout import message
from agent.web.roles import Roles
from agent.web.session import Sessions
from agent.web.wire import (
    BadRequest,
    Response,
    cookie,
    form,
    local_path,
    query,
    same_origin,
    see_other,
    set_cookie,
)

log = structlog.get_logger("partnerlink.web")

CALLBACK = "/auth/callback"


class SignInRoutes:
    def __init__(
        self,
        gate: Gate,
        sessions: Sessions,
        entra: EntraSignIn,
        roles: Roles,
        *,
        origin: str,
        clock: Callable[[], datetime],
    ) -> None:
        self.gate = gate
        self.sessions = sessions
        self.entra = entra
        self.roles = roles
        self.origin = origin
        self.clock = clock
        secure = gate.secure
        self.flow_cookie = "__Secure-partnerlink-flow" if secure else "partnerlink-flow"
        self._flow_site = "None" if secure else "Lax"

    def signin(self, environ: WSGIEnvironment) -> Response:
        asked = query(environ)
        try:
            location, state = self.entra.begin(asked.get("login_hint") or None)
        except SignInFailed as exc:
            return html(503, message("Cannot sign in now", str(exc)))
        flow = self.sessions.signer.dumps(
            "flow", {"state": state, "next": local_path(asked.get("next"))}
        )
        return see_other(location, self._flow(flow, int(FLOW_LIFETIME)))

    def callback(self, environ: WSGIEnvironment, method: str) -> Response:
        try:
            answer = form(environ) if method == "POST" else query(environ)
        except BadRequest as exc:
            return html(400, message("Sign-in failed", str(exc)))
        flow = self.sessions.signer.loads("flow", cookie(environ, self.flow_cookie)) or {}
        forget = self._flow("", 0)
        try:
            who = self.entra.finish(str(flow.get("state") or ""), answer)
        except SignInFailed as exc:
            log.warning("web_sign_in_failed", reason=str(exc)[:200])
            page = message("Sign-in failed", str(exc), link="/signin")
            return html(400, page, forget)
        role = self.roles.role_of(who)
        if role is None:
            log.warning("web_sign_in_refused", reason="no role")
            text = (
                f"You signed in as {who.upn}, who has no role on this page. An administrator "
                "of partnerlink can add you to [http.sign_in] operators or viewers."
            )
            return html(403, message("No access", text), forget)
        _session, sealed = self.sessions.seal(who, role, self.clock())
        log.info("web_signed_in", role=role.value)
        lifetime = int(self.sessions.lifetime.total_seconds())
        kept = set_cookie(
            self.gate.session_cookie, sealed, path="/", max_age=lifetime, secure=self.gate.secure
        )
        return see_other(local_path(str(flow.get("next") or "/")), kept, forget)

    def signout(self, environ: WSGIEnvironment) -> Response:
        if not same_origin(environ, self.origin):
            return html(403, message("Refused", "a request from another site was refused"))
        who = self.gate.session(environ)
        try:
            token = form(environ).get("csrf")
        except BadRequest as exc:
            return html(400, message("Refused", str(exc)))
        if who is not None and not self.sessions.csrf_ok(who, token):
            return html(403, message("Refused", "the form is stale or forged: reload the page"))
        gone = set_cookie(
            self.gate.session_cookie, "", path="/", max_age=0, secure=self.gate.secure
        )
        return html(200, message("Signed out", "You are signed out.", link="/signin"), gone)

    def _flow(self, value: str, max_age: int) -> tuple[str, str]:
        return set_cookie(
            self.flow_cookie,
            value,
            path="/auth",
            max_age=max_age,
            secure=self.gate.secure,
            same_site=self._flow_site,
        )
