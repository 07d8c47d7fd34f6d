"""Who is asking, and whether they may read: a signed-in person (the session cookie), the
holder of the report's bearer token, or anyone where the operator opened the report. Without
any of these a browser is sent to sign in (when sign-in is set up); other clients get the
endpoint's 401 or 403 as before."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from urllib.parse import urlencode
from wsgiref.types import WSGIEnvironment

from agent.web.auth import ReportAccess, Verdict
from agent.web.layout import POLICY
from agent.web.session import Session, Sessions
from agent.web.wire import HTML, Response, cookie, local_path, see_other

OFF_HINT = (
    b"the report is off: set [http] token_file (or PARTNERLINK_HTTP__TOKEN) and send "
    b"'Authorization: Bearer <token>', or set [http] report_anonymous = true, or sign-in "
    b"([http.sign_in])\n"
)
PAGE_HEADERS = [("Content-Security-Policy", POLICY), ("Referrer-Policy", "same-origin")]
"""The pages' headers: a POST from them carries their origin (``no-referrer`` would make it
``null`` and the origin check refuse it)."""


class Gate:
    def __init__(
        self,
        access: ReportAccess,
        sessions: Sessions | None,
        *,
        secure: bool,
        clock: Callable[[], datetime],
    ) -> None:
        self.access = access
        self.sessions = sessions
        self.secure = secure
        self.clock = clock
        self.session_cookie = "__Host-partnerlink" if secure else "partnerlink"
        """``__Host-``: only over https, for this host, for every path; nothing can shadow it."""

    @property
    def signing_in(self) -> bool:
        return self.sessions is not None

    def session(self, environ: WSGIEnvironment) -> Session | None:
        if self.sessions is None:
            return None
        return self.sessions.open(cookie(environ, self.session_cookie), self.clock())

    def csrf(self, who: Session | None) -> str:
        return self.sessions.csrf(who) if self.sessions is not None and who is not None else ""

    def reader(self, environ: WSGIEnvironment) -> tuple[Session | None, Response | None]:
        """(the signed-in person or None, None) when the request may read; else (None, the
        answer that turns it away)."""
        who = self.session(environ)
        if who is not None:
            return who, None
        verdict = self.access.check(environ.get("HTTP_AUTHORIZATION"))
        if verdict is Verdict.ALLOWED:
            return None, None
        browser = "text/html" in (environ.get("HTTP_ACCEPT") or "")
        if self.signing_in and verdict is not Verdict.WRONG and browser:
            return None, to_sign_in(environ)
        if verdict is Verdict.OFF and not self.signing_in:
            return None, Response(403, OFF_HINT)
        if verdict is Verdict.WRONG:
            challenge = 'Bearer realm="partnerlink", error="invalid_token"'
            return None, Response(401, b"wrong token\n", headers=[_auth(challenge)])
        why = b"sign in at /signin, or send the report's bearer token\n"
        missing = b"the report needs a bearer token\n" if not self.signing_in else why
        return None, Response(401, missing, headers=[_auth('Bearer realm="partnerlink"')])


def to_sign_in(environ: WSGIEnvironment) -> Response:
    """Off to sign in, and back here afterwards."""
    here = (environ.get("PATH_INFO") or "/") + (
        f"?{environ['QUERY_STRING']}" if environ.get("QUERY_STRING") else ""
    )
    return see_other("/signin?" + urlencode({"next": local_path(here)}))


def html(status: int, page: str, *headers: tuple[str, str]) -> Response:
    return Response(status, page.encode("utf-8"), HTML, [*PAGE_HEADERS, *headers])


def _auth(challenge: str) -> tuple[str, str]:
    return ("WWW-Authenticate", challenge)
