"""The WSGI application behind the endpoint: health, readiness and metrics for anyone (they carry
no customer data), the cached report for those :class:`ReportAccess` lets in."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http import HTTPStatus
from typing import Any
from wsgiref.types import StartResponse, WSGIEnvironment

import structlog
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from agent.metrics import Metrics
from agent.store import Store
from agent.web.auth import ReportAccess, Verdict
from agent.web.page import ReportPage

log = structlog.get_logger("partnerlink.web")

ENDPOINTS = {
    "/healthz": "healthz",
    "/readyz": "readyz",
    "/metrics": "metrics",
    "/": "report",
    "/report": "report",
}
# The report is self-contained: inline styles and SVG, no script, no external anything.
REPORT_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'"
)
OFF_HINT = (
    b"the report is off: set [http] token_file (or PARTNERLINK_HTTP__TOKEN) and send "
    b"'Authorization: Bearer <token>', or set [http] report_anonymous = true\n"
)
NO_CYCLE = (
    b"<!doctype html><html><head><meta charset='utf-8'><title>partnerlink</title></head>"
    b"<body><p>No report yet: no cycle has finished since the agent started.</p></body></html>"
)


@dataclass(slots=True)
class Response:
    status: int
    body: bytes
    content_type: str = "text/plain; charset=utf-8"
    headers: list[tuple[str, str]] = field(default_factory=list)


class StatusApp:
    def __init__(
        self,
        *,
        store: Store,
        metrics: Metrics,
        page: ReportPage,
        access: ReportAccess,
        ready_after: timedelta,
        clock: Callable[[], datetime],
    ) -> None:
        self.store = store
        self.metrics = metrics
        self.page = page
        self.access = access
        self.ready_after = ready_after
        self.clock = clock
        self.started = clock()

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        endpoint = ENDPOINTS.get(environ.get("PATH_INFO") or "/", "other")
        method = environ.get("REQUEST_METHOD", "GET")
        try:
            response = self.respond(endpoint, method, environ)
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

    def respond(self, endpoint: str, method: str, environ: WSGIEnvironment) -> Response:
        if endpoint == "other":
            return Response(404, b"not found\n")
        if method not in ("GET", "HEAD"):
            return Response(405, b"method not allowed\n", headers=[("Allow", "GET, HEAD")])
        if endpoint == "healthz":
            return _json(200, {"status": "alive"})
        if endpoint == "readyz":
            ready, detail = self.readiness()
            return _json(200 if ready else 503, detail)
        if endpoint == "metrics":
            return Response(200, generate_latest(self.metrics.registry), CONTENT_TYPE_LATEST)
        return self.report(environ)

    def report(self, environ: WSGIEnvironment) -> Response:
        verdict = self.access.check(environ.get("HTTP_AUTHORIZATION"))
        if verdict is Verdict.OFF:
            return Response(403, OFF_HINT)
        if verdict is Verdict.MISSING:
            challenge = 'Bearer realm="partnerlink"'
            return Response(401, b"the report needs a bearer token\n", headers=[_auth(challenge)])
        if verdict is Verdict.WRONG:
            challenge = 'Bearer realm="partnerlink", error="invalid_token"'
            return Response(401, b"wrong token\n", headers=[_auth(challenge)])
        html = "text/html; charset=utf-8"
        secure = [("Content-Security-Policy", REPORT_POLICY), ("Referrer-Policy", "no-referrer")]
        page = self.page.current()
        if page is None:
            return Response(503, NO_CYCLE, html, [*secure, ("Retry-After", "60")])
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


def _auth(challenge: str) -> tuple[str, str]:
    return ("WWW-Authenticate", challenge)
