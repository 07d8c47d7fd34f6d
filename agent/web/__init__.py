"""The daemon's HTTP endpoint: ``/healthz``, ``/readyz``, ``/metrics`` (open, no customer data)
and the report at ``/`` (bearer token, or anonymous where the operator says so).

One idea a module: ``auth`` decides who may read the report, ``page`` holds the rendered report,
``app`` is the WSGI application, ``server`` runs it on waitress.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from agent.config import HttpSection
from agent.metrics import Metrics
from agent.store import Store
from agent.web.app import StatusApp
from agent.web.auth import ReportAccess
from agent.web.page import ReportPage
from agent.web.server import StatusServer

__all__ = ["ReportAccess", "ReportPage", "StatusApp", "StatusServer", "status_server"]


def status_server(
    store: Store,
    metrics: Metrics,
    http: HttpSection,
    *,
    page: ReportPage,
    clock: Callable[[], datetime],
) -> StatusServer:
    """The endpoint as ``[http]`` describes it, bound (a busy port raises ConfigError)."""
    app = StatusApp(
        store=store,
        metrics=metrics,
        page=page,
        access=ReportAccess(http.token, anonymous=http.report_anonymous),
        ready_after=http.ready_after,
        clock=clock,
    )
    return StatusServer(
        app,
        bind=http.bind,
        port=http.port,
        threads=http.threads,
        connection_limit=http.connection_limit,
        idle_timeout=http.idle_timeout,
    )
