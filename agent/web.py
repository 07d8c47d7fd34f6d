"""The daemon's HTTP endpoint: ``/healthz`` (alive), ``/readyz`` (a recent cycle),
``/metrics`` (Prometheus text) and ``/`` (the report of the last cycle)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import structlog
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from agent.escape import for_html
from agent.metrics import Metrics
from agent.store import Store
from agent.store.models import ACTIVE_STATUSES

log = structlog.get_logger("partnerlink.web")


class StatusServer:
    """A small threaded HTTP server; ``start()`` binds, ``stop()`` closes."""

    def __init__(
        self,
        store: Store,
        metrics: Metrics,
        *,
        bind: str,
        port: int,
        ready_after: timedelta,
        clock: Callable[[], datetime],
        report: Callable[[], str] | None = None,
    ) -> None:
        self.store = store
        self.metrics = metrics
        self.ready_after = ready_after
        self.clock = clock
        self.report = report or self._summary_page
        self.started = clock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            server_version = "partnerlink"
            sys_version = ""

            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                try:
                    status, ctype, body = server.route(path)
                except Exception as exc:  # the endpoint must answer, even about itself
                    log.error("http_endpoint_error", path=path, error_type=type(exc).__name__)
                    status, ctype, body = 500, "text/plain", b"internal error\n"
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return  # access logs would drown the agent's own events

        self._httpd = ThreadingHTTPServer((bind, port), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, daemon=True, name="partnerlink-http"
        )

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    def start(self) -> None:
        self._thread.start()
        log.info("http_listening", address=self._httpd.server_address[0], port=self.port)

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def route(self, path: str) -> tuple[int, str, bytes]:
        if path == "/healthz":
            return 200, "application/json", json.dumps({"status": "alive"}).encode()
        if path == "/readyz":
            ready, detail = self.readiness()
            return (200 if ready else 503), "application/json", json.dumps(detail).encode()
        if path == "/metrics":
            return 200, CONTENT_TYPE_LATEST, generate_latest(self.metrics.registry)
        if path in ("/", "/report"):
            return 200, "text/html; charset=utf-8", self.report().encode("utf-8")
        return 404, "text/plain", b"not found\n"

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

    def _summary_page(self) -> str:
        rows = self.store.findings(statuses=sorted(ACTIVE_STATUSES))
        items = "".join(
            f"<tr><td>{for_html(f.severity)}</td><td>{for_html(f.status)}</td>"
            f"<td>{for_html(f.rule)}</td><td>{for_html(f.title)}</td></tr>"
            for f in rows
        )
        return (
            "<!doctype html><html><head><meta charset='utf-8'><title>partnerlink</title></head>"
            f"<body><h1>partnerlink</h1><p>{len(rows)} active finding(s)</p>"
            f"<table><tr><th>severity</th><th>status</th><th>rule</th><th>finding</th></tr>"
            f"{items}</table></body></html>"
        )
