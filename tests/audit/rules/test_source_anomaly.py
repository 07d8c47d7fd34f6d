"""source_anomaly: one partner-level finding for the anomalies the engine's first pass found
(guarantee mass-loss-guard); nothing on a calm run, nothing per customer; it opens at once and resolves at the next run
without an anomaly."""

from __future__ import annotations

from agent.audit.anomaly import Anomaly, AnomalyScope
from agent.audit.model import Severity
from agent.audit.rules import source_anomaly
from agent.audit.snapshot import CustomerSnapshot

from .conftest import (
    build_snapshot,
    evaluate,
    evaluated,
    fingerprints,
    healthy_records,
    make_context,
)

RULE = source_anomaly.RULE
PAL_WAVE = Anomaly(AnomalyScope.LINK_KIND, "pal", known=25, gone=20)
EMPTY_REPORTS = Anomaly(AnomalyScope.SOURCE, "insights.attribution", known=40, gone=40)


def _partner_level() -> CustomerSnapshot:
    return CustomerSnapshot(tenant_id="", records={}, statuses={})


def test_calm_run_raises_nothing() -> None:
    ctx = make_context()
    assert evaluate(RULE, _partner_level(), ctx) == []


def test_anomalies_give_one_partner_level_finding_naming_each() -> None:
    ctx = make_context(anomalies=(EMPTY_REPORTS, PAL_WAVE))

    [cand] = evaluate(RULE, _partner_level(), ctx)

    assert cand.customer_tenant_id is None
    assert cand.title == (
        "Source anomaly: insights.attribution returned nothing this run after 40 item(s) in "
        "the previous run; 20 of 25 PAL links (80 %) vanished in one run; link disappearances "
        "of insights.attribution, pal are held until the next run confirms them"
    )
    assert [a["name"] for a in cand.evidence["anomalies"]] == ["insights.attribution", "pal"]
    assert cand.evidence["anomalies"][1]["percent"] == 80.0
    assert cand.evidence["threshold_percent"] == 20.0
    assert cand.remediation is not None
    assert cand.remediation.startswith("Check insights.attribution, pal before the customers")


def test_the_finding_keeps_one_fingerprint_whatever_the_anomalies() -> None:
    one = make_context(anomalies=(PAL_WAVE,))
    other = make_context(anomalies=(EMPTY_REPORTS,), run_id=11)

    assert fingerprints(evaluate(RULE, _partner_level(), one), one) == fingerprints(
        evaluate(RULE, _partner_level(), other), other
    )


def test_customer_snapshots_never_carry_it() -> None:
    ctx = make_context(anomalies=(PAL_WAVE,))
    assert evaluate(RULE, build_snapshot(healthy_records(), ctx), ctx) == []


def test_opens_at_once_and_resolves_at_the_first_calm_run_and_needs_no_source() -> None:
    assert RULE.meta.open_after_runs == 1
    assert RULE.meta.resolve_after_runs == 1
    assert RULE.meta.severity is Severity.HIGH
    assert RULE.meta.required_sources == ()
    assert evaluated(RULE, _partner_level())
