"""The WSGI application behind the endpoint: health, readiness and metrics for anyone (they carry
no customer data), the cached report and the findings for those :class:`Gate` lets in, and,
with sign-in, the actions on findings for operators (:mod:`agent.web.people`)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote
from wsgiref.types import StartResponse, WSGIEnvironment

import structlog
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from agent.metrics import Metrics
from agent.report_html import content_security_policy
from agent.store import Store
from agent.web.layout import with_bar
from agent.web.page import ReportPage
from agent.web.paths import FINDINGS
from agent.web.people import People
from agent.web.signin_routes import CALLBACK
from agent.web.wire import Response

log = structlog.get_logger("partnerlink.web")

ENDPOINTS = {
    "/healthz": "healthz",
    "/readyz": "readyz",
    "/metrics": "metrics",
    "/": "report",
    "/report": "report",
    FINDINGS: "findings",
    "/signin": "signin",
    CALLBACK: "callback",
    "/signout": "signout",
}
# The report is self-contained: inline style and SVG, its one script allowed by its hash (never
# 'unsafe-inline'), nothing from outside (agent.report_html).
REPORT_POLICY = content_security_policy()
OFF_HINT = (
    b"the report is off: set [http] token_file (or PARTNERLINK_HTTP__TOKEN) and send "
    b"'Authorization: Bearer <token>', or set [http] report_anonymous = true\n"
)
NO_CYCLE = (
    b"<!doctype html><html><head><meta charset='utf-8'><title>partnerlink</title></head>"
    b"<body><p>No report yet: no cycle has finished since the agent started.</p></body></html>"
)
READ = ("GET", "HEAD")
POSTED = {"finding": ("GET", "HEAD", "POST"), "callback": ("GET", "POST"), "signout": ("POST",)}
"""The endpoints that take a POST, and what else they take; every other one is GET or HEAD."""


def endpoint_of(path: str) -> tuple[str, str]:
    """(the endpoint a path names, the finding id for ``/findings/<id>``)."""
    if path.startswith(FINDINGS + "/") and len(path) > len(FINDINGS) + 1:
        return "finding", unquote(path[len(FINDINGS) + 1 :])
    return ENDPOINTS.get(path, "other"), ""


class StatusApp:
    def __init__(
        self,
        *,
        store: Store,
        metrics: Metrics,
        page: ReportPage,
        people: People,
        ready_after: timedelta,
        clock: Callable[[], datetime],
    ) -> None:
        self.store = store
        self.metrics = metrics
        self.page = page
        self.people = people
        self.access = people.gate.access
        self.ready_after = ready_after
        self.clock = clock
        self.started = clock()

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        endpoint, finding = endpoint_of(environ.get("PATH_INFO") or "/")
        method = environ.get("REQUEST_METHOD", "GET")
        try:
            response = self.respond(endpoint, method, environ, finding)
        except Exception as exc:  # the endpoint must answer, even about itself
            log.error("http_endpoint_error", endpoint=endpoint, error_type=type(exc).__name__)
            response = Response(500, b"internal error\n")
        self.metrics.http_requests.labels(endpoint, str(response.status)).inc()
        headers = [
            ("Content-Type", response.content_type),
            ("Content-Length", str(len(response.body))),
            ("Cache-Control", "no-store"),
            ("X-Content-Type-Options", "nosniff"),
            *response.headers,
        ]
        status = HTTPStatus(response.status)
        start_response(f"{status.value} {status.phrase}", headers)
        return [b""] if method == "HEAD" else [response.body]

    def respond(
        self, endpoint: str, method: str, environ: WSGIEnvironment, finding: str = ""
    ) -> Response:
        sign_in = self.people.sign_in
        if endpoint == "other" or (endpoint in ("signin", "callback", "signout") and not sign_in):
            return Response(404, b"not found\n")
        allowed = POSTED.get(endpoint, READ)
        if method not in allowed:
            return Response(405, b"method not allowed\n", headers=[("Allow", ", ".join(allowed))])
        if endpoint == "healthz":
            return _json(200, {"status": "alive"})
        if endpoint == "readyz":
            ready, detail = self.readiness()
            return _json(200 if ready else 503, detail)
        if endpoint == "metrics":
            return Response(200, generate_latest(self.metrics.registry), CONTENT_TYPE_LATEST)
        if endpoint == "report":
            return self.report(environ)
        findings = self.people.findings
        if endpoint == "findings":
            return findings.listing(environ)
        if endpoint == "finding":
            if method == "POST":
                return findings.act(environ, finding)
            return findings.one(environ, finding)
        assert sign_in is not None
        if endpoint == "signin":
            return sign_in.signin(environ)
        if endpoint == "callback":
            return sign_in.callback(environ, method)
        return sign_in.signout(environ)

    def report(self, environ: WSGIEnvironment) -> Response:
        gate = self.people.gate
        who, refused = gate.reader(environ)
        if refused is not None:
            return refused
        html = "text/html; charset=utf-8"
        # Signed in, the bar's sign-out form posts from here: it must carry this origin.
        referrer = "same-origin" if who is not None else "no-referrer"
        secure = [("Content-Security-Policy", REPORT_POLICY), ("Referrer-Policy", referrer)]
        page = self.page.current()
        if page is None:
            return Response(503, NO_CYCLE, html, [*secure, ("Retry-After", "60")])
        if who is not None:  # the report as rendered, with who is signed in above it
            return Response(200, with_bar(page.body, who, gate.csrf(who)), html, secure)
        packed = bool(page.gzipped) and _accepts_gzip(environ.get("HTTP_ACCEPT_ENCODING", ""))
        etag = page.gzip_etag if packed else page.etag
        tagged = [*secure, ("ETag", etag), ("Vary", "Accept-Encoding")]
        if environ.get("HTTP_IF_NONE_MATCH") == etag:
            return Response(304, b"", html, tagged)
        if packed:
            return Response(200, page.gzipped, html, [*tagged, ("Content-Encoding", "gzip")])
        return Response(200, page.body, html, tagged)

    def readiness(self) -> tuple[bool, dict[str, Any]]:
        run = self.store.last_finished_run()
        now = self.clock()
        if run is None or run.audited_at is None:
            # A fresh agent is ready while its first cycle is still within the bound.
            young = now - self.started < self.ready_after
            return young, {"ready": young, "last_cycle": None}
        age = now - run.audited_at
        ready = age < self.ready_after
        return ready, {
            "ready": ready,
            "last_cycle": run.audited_at.isoformat(),
            "run_id": run.id,
            "status": run.status,
            "age_seconds": int(age.total_seconds()),
        }


def _accepts_gzip(header: str) -> bool:
    """Whether ``Accept-Encoding`` takes gzip (and does not refuse it with ``q=0``)."""
    for part in header.lower().split(","):
        name, _, params = part.strip().partition(";")
        if name.strip() in ("gzip", "x-gzip", "*"):
            q = params.strip().removeprefix("q=").strip() if "q=" in params else "1"
            try:
                return float(q) > 0
            except ValueError:
                return False
    return False


def _json(status: int, data: dict[str, Any]) -> Response:
    return Response(status, json.dumps(data).encode(), "application/json")
