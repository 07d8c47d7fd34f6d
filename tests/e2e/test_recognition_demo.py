"""The demo world's recognition stories end to end: the bundled world served by the emulator
over TLS, read by the real connectors (MSAL, Graph, ARM, Partner Center, the insight reports),
stored, audited, and judged by the credit view. Each story shows in the credit view and in the
findings: the services partner whose customer's Dynamics 365 licences another CSP sells (also
app-only, without insight reports), the Power Platform customer where our PAL counts, Modern
Work tenants under, inside and over the seat bands, the Azure customer whose PAL names the
global ID."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import pytest

from agent.app import Agent
from agent.config import load_settings
from agent.demo import write_config
from agent.recognition.credit import Reason
from agent.recognition.holdings import Whose
from agent.recognition.view import CreditRow
from agent.store.models import Finding
from standin.scenario import bundled_path, load_scenario
from tests.conftest import Clock

KESTREL = "c0000000-0000-4000-8000-000000000011"
LUMEN = "c0000000-0000-4000-8000-000000000012"
MERIDIAN = "c0000000-0000-4000-8000-000000000013"
IVY = "c0000000-0000-4000-8000-000000000009"
HARBOR = "c0000000-0000-4000-8000-000000000008"
COBALT = "c0000000-0000-4000-8000-000000000003"
OTHER_CSP = "9e000000-0000-4000-8000-000000000006"
"""The partner tenant that sold Kestrel's Dynamics 365 licences."""


@dataclass
class Night:
    credit: list[CreditRow]
    findings: list[Finding]

    def lines(self, tenant: str, prefix: str = "") -> list[CreditRow]:
        return [
            r
            for r in self.credit
            if r.customer_tenant_id == tenant and r.line.rule_id.startswith(prefix)
        ]

    def found(self, tenant: str, rule: str) -> list[Finding]:
        return [f for f in self.findings if f.customer_tenant_id == tenant and f.rule == rule]


def _night(folder: Path, clock: Clock, *, app_user: bool) -> Night:
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(bundled_path("demo"), folder / "world.json")
    managed = resources.files("standin.scenario") / "worlds" / "demo-managed-customers.csv"
    (folder / "managed-customers.csv").write_bytes(managed.read_bytes())
    config = write_config(folder, load_scenario(folder / "world.json"), "emulator")
    if not app_user:
        text = config.read_text(encoding="utf-8").replace("app_user = true", "app_user = false")
        config.write_text(text, encoding="utf-8")
    with Agent(load_settings(config), clock=clock) as agent:
        assert agent.settings.sources.mode == "emulator"
        _synced, audited = agent.cycle()
        assert audited is not None
        return Night(agent.credit(), agent.store.findings())


@pytest.fixture(scope="module")
def night(tmp_path_factory: pytest.TempPathFactory) -> Night:
    return _night(tmp_path_factory.mktemp("demo"), Clock(), app_user=True)


def test_the_seed_story_dynamics_licences_sold_by_another_csp_earn_us_nothing(
    night: Night,
) -> None:
    """We run Kestrel's Dynamics 365 (GDAP, our PAL); another CSP's tenant bought the
    licences, so that partner transacts them and earns the Business Applications credit."""
    lines = night.lines(KESTREL, "business-apps")
    assert lines and all(r.line.reason is Reason.OTHER_TRANSACTING_PARTNER for r in lines)
    for row in lines:
        holder = row.line.holder
        assert holder is not None and (holder.whose, holder.holder) == (Whose.OTHER, OTHER_CSP)
        assert row.line.remedy is not None and row.line.remedy.kind.value == "cpor"
    assert str(lines[0].line.stake) == "65 seats"
    [finding] = night.found(KESTREL, "recognition_held_by_other")
    assert OTHER_CSP in finding.title and "Dynamics 365" in finding.title
    assert finding.remediation and "file a CPOR claim (OSU)" in finding.remediation
    assert night.found(KESTREL, "link_missing") == [], "one cause, one finding"


def test_the_seed_story_reaches_an_app_only_partner_without_insight_reports(
    tmp_path: Path, clock: Clock
) -> None:
    app_only = _night(tmp_path, clock, app_user=False)

    [finding] = app_only.found(KESTREL, "recognition_held_by_other")
    evidence = json.loads(finding.evidence)
    assert evidence["licence_owner_tenant"] == OTHER_CSP
    assert evidence["source"] == "graph.directory_subscriptions"
    assert finding.status == "open"


def test_power_platform_counts_through_our_pal_and_a_free_sku_adds_no_seat(night: Night) -> None:
    power = night.lines(LUMEN, "business-apps-power-platform")
    assert power and all(r.line.reason is Reason.COUNTS for r in power)
    assert all(r.line.holder and r.line.holder.kind.value == "pal" for r in power)
    smb = night.lines(LUMEN, "modern-work-net-customer-adds-smb")
    assert [str(r.line.stake) for r in smb] == ["120 seats"], "10,000 free units add no seat"
    assert not [f for f in night.findings if f.customer_tenant_id == LUMEN]


def test_modern_work_tenants_under_inside_and_over_the_seat_bands(night: Night) -> None:
    # Under: Ivy at 9 paid seats, two short of "more than 10".
    [ivy] = night.lines(IVY, "modern-work-net-customer-adds")
    assert (ivy.line.track, ivy.line.reason) == ("smb", Reason.BELOW_THRESHOLD)
    [near] = night.found(IVY, "recognition_near_threshold")
    assert "2 paid seat(s) short" in near.title
    # Inside: Harbor at 220 paid seats counts on the SMB track through our CSP.
    [harbor] = night.lines(HARBOR, "modern-work-net-customer-adds")
    assert (harbor.line.track, harbor.line.reason) == ("smb", Reason.COUNTS)
    # Over: Meridian at 450 is enterprise, where our CSP sale does not count.
    meridian = night.lines(MERIDIAN, "modern-work")
    assert {r.line.track for r in meridian} == {"enterprise"}
    assert all(r.line.reason is Reason.TYPE_NOT_ELIGIBLE for r in meridian)
    [idle] = night.found(MERIDIAN, "recognition_not_earning")
    assert idle.remediation and "file a CPOR claim (OSU)" in idle.remediation


def test_an_azure_customer_whose_pal_names_the_global_id_earns_nothing_on_azure(
    night: Night,
) -> None:
    azure = night.lines(COBALT, "azure")
    assert len(azure) == 9  # three metrics in three areas
    assert all(r.line.reason is Reason.WRONG_PARTNER_ID for r in azure)
    assert all(r.line.remedy and "4100002" in r.line.remedy.words for r in azure)
    [wrong] = night.found(COBALT, "wrong_partner_id")  # one cause, one finding
    assert "global partner ID" in wrong.title
