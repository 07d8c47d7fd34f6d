"""Stakes keep their unit everywhere: a finding's stake in JSON, CSV, the findings table and the
report; findings ranked within one unit group only; "no data" shown as such, never 0 (an
app-only install reads no insight report: no "0 % of monthly active users covered")."""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace

from rich.console import Console

from agent import report
from agent.app import Agent
from agent.audit.snapshot import CustomerSnapshot, finding_stake, group_records
from agent.config import load_settings
from agent.names import Names
from agent.present import finding_dict, finding_order, findings_table
from agent.recognition.stake import Unit
from tests.conftest import Clock
from tests.recognition.estate import write_estate
from tests.recognition.support import TENANT, licence


def _finding(severity: str, stake: dict[str, object] | None, title: str) -> SimpleNamespace:
    evidence = {"at_stake": stake} if stake is not None else {}
    return SimpleNamespace(
        status="open", severity=severity, evidence=json.dumps(evidence), title=title
    )


def test_a_free_power_automate_sku_adds_no_seat_to_a_findings_stake() -> None:
    """120 paid seats and 10,000 units of FLOW_FREE are 120 seats, not 10,120."""
    records = [*licence("O365_BUSINESS_PREMIUM", 120), *licence("FLOW_FREE", 10_000, sub="d2")]
    snapshot = CustomerSnapshot(TENANT, group_records(records), {})

    figures = snapshot.stake("m365")

    assert figures == {"seats": 120}
    assert str(finding_stake("m365", figures)) == "120 seats"


def test_a_findings_stake_takes_one_unit_and_says_no_data_without_figures() -> None:
    money = finding_stake("azure:s1", {"acr_usd": 4200.0, "mau": 30})
    users = finding_stake("m365", {"mau": 201, "seats": 220})
    azure_blind = finding_stake("azure:s1", {})
    m365_blind = finding_stake("m365", {})

    assert (money.unit, str(money)) == (Unit.MONEY, "4,200.00 USD")
    assert (users.unit, str(users)) == (Unit.USERS, "201 users")
    assert str(azure_blind) == str(m365_blind) == "no data"
    assert azure_blind.value is None and azure_blind.currency == "USD"


def test_findings_rank_within_one_unit_group_never_dollars_against_users() -> None:
    """Within a severity: money (largest first), then users, then seats, then no data, then
    findings without a stake; 201 users never outrank 9 dollars, nor 9,000 users 1 dollar."""
    rows = [
        _finding("high", finding_stake("m365", {"mau": 9000}).as_dict(), "users 9000"),
        _finding("high", finding_stake("azure:s", {"acr_usd": 1.0}).as_dict(), "usd 1"),
        _finding("high", finding_stake("m365", {}).as_dict(), "no data"),
        _finding("high", None, "no stake"),
        _finding("high", finding_stake("m365", {"seats": 50_000}).as_dict(), "seats"),
        _finding("high", finding_stake("azure:s", {"acr_usd": 900.0}).as_dict(), "usd 900"),
        _finding("critical", finding_stake("m365", {"mau": 3}).as_dict(), "critical"),
    ]

    ordered = [f.title for f in sorted(rows, key=finding_order)]

    assert ordered == ["critical", "usd 900", "usd 1", "users 9000", "seats", "no data", "no stake"]


def test_an_app_only_install_shows_units_and_no_data_never_zero(
    tmp_path: Path, clock: Clock
) -> None:
    config = write_estate(tmp_path, mode="emulator")
    with Agent(load_settings(config), clock=clock) as agent:
        assert not agent.settings.sources.app_user
        agent.cycle()
        rows = agent.store.findings()
        names = Names.from_store(agent.store)
        data = agent.report_data(agent.clock())

    dicts = [finding_dict(f) for f in rows]
    staked = [d for d in dicts if d["evidence"].get("at_stake")]
    assert staked, "the estate raises findings with a stake"
    for d in staked:
        assert d["stake"] == d["evidence"]["at_stake"]["text"]
        assert re.fullmatch(r"no data|[\d,.]+ (USD|users|seats)", d["stake"]), d["stake"]
        assert d["stake"] not in ("0", "0 users", "0 seats", "0.00 USD")
    console = Console(record=True, width=200)
    console.print(findings_table(rows, names))
    table = console.export_text()
    assert "140 seats" in table
    [latest] = data.history
    assert latest["mau"] is None, "without insight reports the share of users is no data"
    page = report.to_html(data)
    chart = re.search(r'data-series="mau".*?</figure>', page, re.S)
    assert chart and "no data" in chart.group(0) and "0 %" not in chart.group(0)
    assert "0 % of MAU" not in page
    assert json.loads(report.to_json(data))["findings"][0]["stake"]
