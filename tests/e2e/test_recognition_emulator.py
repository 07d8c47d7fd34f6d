"""End to end through the emulator and the real connectors (HTTPS, MSAL, Graph's
companySubscription shape): a customer whose licences another CSP sold, read app-only with no
insight report, raises recognition_held_by_other and shows that partner in the credit view."""

from __future__ import annotations

from pathlib import Path

from agent.app import Agent
from agent.config import load_settings
from agent.recognition.credit import Reason
from connectors.records.scope import Source
from tests.conftest import Clock
from tests.recognition.estate import ELSEWHERE, write_estate
from tests.worlds import C1


def test_licences_sold_by_another_csp_raise_the_finding_and_show_in_credit(
    tmp_path: Path, clock: Clock
) -> None:
    config = write_estate(tmp_path, mode="emulator")
    with Agent(load_settings(config), clock=clock) as agent:
        assert not agent.settings.sources.app_user
        synced, audited = agent.cycle()
        assert audited is not None
        statuses = agent.store.statuses(synced.run_id)
        findings = agent.store.findings(rules=["recognition_held_by_other"])
        rows = agent.credit([C1])

    assert statuses[(Source.GRAPH_DIRECTORY_SUBSCRIPTIONS.value, C1)].status == "complete"
    assert all(key[0] != Source.INSIGHTS.value for key in statuses), "no insight report read"
    [finding] = findings
    assert finding.customer_tenant_id == C1 and finding.status == "open"
    assert ELSEWHERE in finding.title and "Modern Work" in finding.title
    assert finding.remediation and "file a CPOR claim (OSU)" in finding.remediation
    smb = next(r for r in rows if r.line.rule_id == "modern-work-net-customer-adds-smb")
    assert smb.line.reason is Reason.OTHER_TRANSACTING_PARTNER
    assert smb.line.holder is not None and smb.line.holder.holder == ELSEWHERE
    assert str(smb.line.stake) == "140 seats"
