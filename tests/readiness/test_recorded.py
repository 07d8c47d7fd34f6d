"""The readable share as every audit records it from what its run read: the same figures the
readiness check finds on the same estate, served on /metrics and shown in the report."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from prometheus_client import generate_latest

from agent import report
from agent.app import Agent
from agent.config import load_settings
from agent.metrics import Metrics
from agent.readiness.coverage import ReadCoverage
from agent.readiness.recorded import last_readable
from tests.readiness.estate import write_estate

NOW = datetime(2026, 11, 15, 2, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def agent(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Agent]:
    config = write_estate(tmp_path_factory.mktemp("estate"))
    running = Agent(load_settings(config))
    synced, audited = running.cycle()
    assert audited is not None and synced.status.value == "partial"
    yield running
    running.close()


def test_the_audit_records_the_figures_the_readiness_check_finds(agent: Agent) -> None:
    recorded = last_readable(agent.store)
    assert recorded is not None
    assert recorded.as_dict() == {
        "customers": {"readable": 1, "total": 5, "percent": 20.0},
        "azure_subscriptions": {"readable": 3, "total": 6, "percent": 50.0},
        "seats": {"readable": 10, "total": 50, "percent": 20.0},
    }


def test_metrics_serve_the_readable_share_by_figure(agent: Agent) -> None:
    text = generate_latest(Metrics(agent.store).registry).decode()
    assert 'partnerlink_readable_ratio{figure="customers"} 0.2' in text
    assert 'partnerlink_readable_ratio{figure="azure_subscriptions"} 0.5' in text
    assert 'partnerlink_readable_items{count="total",figure="seats"} 50.0' in text
    assert 'partnerlink_readable_items{count="readable",figure="seats"} 10.0' in text


def test_a_store_with_no_audited_run_serves_no_figure(tmp_path: Path) -> None:
    config = write_estate(tmp_path)
    with Agent(load_settings(config)) as fresh:
        text = generate_latest(Metrics(fresh.store).registry).decode()
        assert last_readable(fresh.store) is None
    assert "partnerlink_readable_ratio{" not in text
    assert "# TYPE partnerlink_readable_ratio gauge" in text


def test_the_report_says_how_much_is_readable_and_where_to_find_why(agent: Agent) -> None:
    data = agent.report_data(NOW)
    page = report.to_html(data)
    assert (
        '<p id="readable">Readable: 1 of 5 customers (20.0 %), 3 of 6 Azure subscriptions '
        "(50.0 %), 10 of 50 seats (20.0 %) fully readable. <code>partnerlink readiness</code> "
        "says why not.</p>"
    ) in page
    assert data.as_dict()["readable"]["customers"]["total"] == 5


def test_the_report_before_any_audit_says_so() -> None:
    data = report.ReportData(generated="", partner="p", history=[], matrix=[], findings=[])
    assert '<p id="readable">Readable: no audited run yet.</p>' in report.to_html(data)
    data.readable = ReadCoverage()
    assert "0 of 0 customers (none known)" in report.to_html(data)


def test_the_audit_groups_what_it_could_not_read_by_reader_and_cause(agent: Agent) -> None:
    """Through the real connectors: one finding per reader and cause, naming the customers."""
    blind = {
        json.loads(f.evidence)["reader"] + "|" + json.loads(f.evidence)["cause"]: f
        for f in agent.store.findings()
        if f.rule == "cannot_verify"
    }
    assert set(blind) == {
        "graph|consent_missing",
        "arm|consent_missing",
        "pal as partner-app|consent_missing",
        "graph|permission_missing",
        "pal as ops|identity_missing",
    }
    consent = blind["graph|consent_missing"]
    assert consent.customer_tenant_id is None
    assert consent.title.startswith("Consent missing (AADSTS7000229): cannot verify graph")
    assert consent.title.endswith("for 1 customer: Birch")
    evidence = json.loads(consent.evidence)
    assert len(evidence["sources"]) == 4 and evidence["codes"] == ["AADSTS7000229"]
    permission = json.loads(blind["graph|permission_missing"].evidence)
    assert permission["sources"] == ["graph.usage_reports"]
    assert permission["codes"] == ["HTTP 403 Authorization_RequestDenied"]
