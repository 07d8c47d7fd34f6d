"""Who reads what on the daemon's endpoint: the report only with the configured bearer token (or
where the operator opened it), health, readiness and metrics for anyone and free of customers."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from agent.daemon import Daemon
from agent.metrics import Metrics
from agent.report_html import script_hash
from agent.store import Store
from agent.web.config import HttpSection
from agent.web.page import ReportPage
from agent.web.server import status_server
from tests.daemon.webworld import (
    NAMES,
    TENANTS,
    TOKEN,
    now,
    serving,
    write_agent,
)
from tests.logs import project_logging
from tests.worlds import C1


def test_without_a_token_or_anonymous_access_the_report_is_off_with_a_hint(
    tmp_path: Path,
) -> None:
    with serving(Daemon, write_agent(tmp_path)) as (daemon, url):
        daemon.cycle()
        for path in ("/", "/report"):
            response = httpx.get(url + path, headers={"Authorization": f"Bearer {TOKEN}"})
            assert response.status_code == 403
            assert "token_file" in response.text and "report_anonymous" in response.text
            assert response.text.count("\n") == 1, "one line"
            assert not any(name in response.text for name in NAMES)


def test_report_needs_the_bearer_token(tmp_path: Path) -> None:
    (tmp_path / "token").write_text(TOKEN + "\n")
    with serving(Daemon, write_agent(tmp_path, 'token_file = "token"\n')) as (daemon, url):
        daemon.cycle()
        missing = httpx.get(url + "/")
        assert missing.status_code == 401
        assert missing.headers["WWW-Authenticate"].startswith("Bearer")
        basic = httpx.get(url + "/", auth=("admin", TOKEN))
        assert basic.status_code == 401, "the token in another scheme is not a bearer token"
        wrong = httpx.get(url + "/", headers={"Authorization": f"Bearer {TOKEN[:-1]}x"})
        assert wrong.status_code == 401
        assert 'error="invalid_token"' in wrong.headers["WWW-Authenticate"]
        for denied in (missing, basic, wrong):
            assert not any(name in denied.text for name in NAMES)
            assert TOKEN not in denied.text
        right = httpx.get(url + "/", headers={"Authorization": f"bearer  {TOKEN}"})
        assert right.status_code == 200
        assert right.headers["Content-Type"].startswith("text/html")
        assert all(name in right.text for name in NAMES), "the real report"
        policy = right.headers["Content-Security-Policy"]
        assert "default-src 'none'" in policy and "frame-ancestors 'none'" in policy
        assert f"script-src '{script_hash()}'" in policy, "the page's script, by its hash only"
        assert right.headers["Cache-Control"] == "no-store"


def test_token_from_the_environment_is_never_logged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PARTNERLINK_HTTP__TOKEN", TOKEN)
    with project_logging() as stream, serving(Daemon, write_agent(tmp_path)) as (daemon, url):
        daemon.cycle()
        assert httpx.get(url + "/", headers={"Authorization": f"Bearer {TOKEN}"}).is_success
        assert (
            httpx.get(url + "/", headers={"Authorization": "Bearer guess-guess-guess"}).status_code
            == 401
        )
        assert daemon.agent.settings.http.token is not None
        assert TOKEN not in repr(daemon.agent.settings)
    logged = stream.getvalue()
    assert "http_listening" in logged and '"report": "token"' in logged
    assert TOKEN not in logged
    assert "guess-guess" not in logged


def test_only_get_and_head_are_answered_and_head_sends_no_body(tmp_path: Path) -> None:
    with serving(Daemon, write_agent(tmp_path, "report_anonymous = true\n")) as (daemon, url):
        daemon.cycle()
        head = httpx.head(url + "/")
        assert head.status_code == 200 and head.content == b""
        with httpx.stream("GET", url + "/") as whole:  # the same representation (gzip)
            sent = b"".join(whole.iter_raw())
        assert int(head.headers["Content-Length"]) == len(sent)
        post = httpx.post(url + "/", content=b"x")
        assert post.status_code == 405 and post.headers["Allow"] == "GET, HEAD"
        assert not any(name in post.text for name in NAMES)
        assert httpx.get(url + "/nothing-here").status_code == 404


def test_anonymous_report_is_served_to_anyone_when_the_operator_says_so(tmp_path: Path) -> None:
    config = write_agent(tmp_path, "report_anonymous = true\n")
    with serving(Daemon, config) as (daemon, url):
        daemon.cycle()
        response = httpx.get(url + "/")
        assert response.status_code == 200
        assert all(name in response.text for name in NAMES)


def test_anonymous_report_on_a_non_loopback_bind_warns_at_start(sqlite_store: Store) -> None:
    def started_on(bind: str) -> str:
        http = HttpSection(bind=bind, port=0, report_anonymous=True)
        with project_logging() as stream:
            metrics = Metrics(sqlite_store)
            server = status_server(sqlite_store, metrics, http, page=ReportPage(), clock=now)
            server.start()
            server.stop()  # nothing connects: what start says is what is tested
        return stream.getvalue()

    exposed = [json.loads(line) for line in started_on("0.0.0.0").splitlines()]
    assert {"event": "http_report_anonymous", "level": "warning"}.items() <= exposed[-1].items()
    assert "http_report_anonymous" not in started_on("127.0.0.1"), "loopback: no warning"


def test_health_readiness_and_metrics_are_open_and_name_no_customer(tmp_path: Path) -> None:
    failing = [{"source": "partner_center.subscriptions", "scope": C1, "status": 403}]
    (tmp_path / "token").write_text(TOKEN)
    config = write_agent(tmp_path, 'token_file = "token"\n', faults=failing)
    with serving(Daemon, config) as (daemon, url):
        daemon.cycle()
        assert daemon.agent.store.findings(), "the cycle raised findings about the customers"
        pages = {path: httpx.get(url + path) for path in ("/healthz", "/readyz", "/metrics")}
    assert all(p.status_code == 200 for p in pages.values())
    assert pages["/readyz"].json()["ready"] is True
    metrics = pages["/metrics"].text
    assert 'partnerlink_source_reads_total{outcome="failed"' in metrics
    assert "partnerlink_findings{" in metrics
    for page in pages.values():
        for secret in (*NAMES, *TENANTS, TOKEN):
            assert secret.lower() not in page.text.lower()
