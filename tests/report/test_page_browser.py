"""The report's page in headless Chromium, driven as a person would (``drive.js``): who loses
what sorted by stake and in pages, open findings before acknowledged ones, search, filters,
sorting, and one customer's rows across the tables."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from agent import report
from agent.acting import act
from agent.app import Agent
from agent.audit.decisions import Act, Request
from agent.config import load_settings
from agent.demo import MANAGED, WORLD, write_config
from standin.scenario import load_scenario
from standin.scenario.generate import write_scenario
from tests.conftest import Clock
from tests.report.browser import CHROMIUM, SKIP_REASON, dump_dom, results, with_script

CUSTOMERS = 120
DRIVE = (Path(__file__).parent / "drive.js").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The page of a generated estate of 120 customers with owners, one cycle, one finding
    acknowledged."""
    folder = tmp_path_factory.mktemp("estate")
    write_scenario(folder / WORLD, CUSTOMERS, 7)
    scenario = load_scenario(folder / WORLD)
    lines = ["customer_tenant_id,name,workloads,expected_links,tags,owner"]
    lines += [f"{c.tenant_id},,m365,cpor,,team-{n % 3}" for n, c in enumerate(scenario.customers)]
    (folder / MANAGED).write_text("\n".join(lines) + "\n", encoding="utf-8")
    config = write_config(folder, scenario, "fake")
    clock = Clock()
    with Agent(load_settings(config), clock=clock) as agent:
        agent.cycle()
        first = agent.store.findings(statuses=["open"])[0]
        act(agent.store, first.fingerprint, Request(Act.ACK, actor="ops"), clock())
        return report.to_html(agent.report_data(clock()))


@pytest.fixture(scope="module")
def driven(page: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    if CHROMIUM is None:
        pytest.skip(SKIP_REASON)
    return results(dump_dom(with_script(page, DRIVE), tmp_path_factory.mktemp("chromium")))


def _money(cell: str) -> float:
    found = re.match(r"([\d,]+) USD", cell)
    return float(found.group(1).replace(",", "")) if found else 0.0


def test_who_loses_what_is_sorted_by_stake_and_shown_a_page_at_a_time(
    driven: dict[str, Any],
) -> None:
    assert driven["ready"] == "yes"
    customers = driven["steps"]["customers"]
    assert len(customers["rows"]) == 50
    assert (
        customers["status"].startswith(f"1–50 of {CUSTOMERS}")
        and "page 1 of 3" in customers["status"]
    )
    money = [_money(row[3]) for row in customers["rows"]]
    assert money == sorted(money, reverse=True) and money[0] > 0
    assert all(row[1].startswith("team-") for row in customers["rows"]), "owners from the file"
    assert not any(re.search(r"[0-9a-f]{8}-[0-9a-f]{4}-", row[0]) for row in customers["rows"])
    second = driven["steps"]["customers page 2"]
    assert second["status"].startswith(f"51–100 of {CUSTOMERS}")
    assert {r[0] for r in second["rows"]}.isdisjoint({r[0] for r in customers["rows"]})


def test_open_findings_come_before_acknowledged_ones(driven: dict[str, Any]) -> None:
    first_page = driven["steps"]["findings"]["rows"]
    assert first_page and all(row[1] == "open" for row in first_page)
    acknowledged = driven["steps"]["findings acknowledged"]
    assert len(acknowledged["rows"]) == 1 and acknowledged["rows"][0][1] == "acknowledged"
    assert acknowledged["status"].startswith("1–1 of 1 (of ")


def test_search_and_filters_narrow_the_findings(driven: dict[str, Any]) -> None:
    customer = driven["steps"]["findings"]["rows"][0][2]
    searched = driven["steps"]["findings searched"]["rows"]
    assert searched and all(customer.lower() in " ".join(row).lower() for row in searched)
    medium = driven["steps"]["findings medium"]["rows"]
    assert medium and all(row[0] == "medium" for row in medium)


def test_a_column_header_sorts(driven: dict[str, Any]) -> None:
    names = [row[0] for row in driven["steps"]["customers by name"]["rows"]]
    assert driven["sorted"] == "ascending"
    assert names == sorted(names, key=str.lower)


def test_choosing_a_customer_narrows_every_table_to_it(driven: dict[str, Any]) -> None:
    chosen = driven["chosen"]
    findings = driven["steps"]["findings of one customer"]["rows"]
    matrix = driven["steps"]["matrix of one customer"]["rows"]
    assert driven["focus"] == chosen
    assert matrix and all(row[0] == chosen for row in matrix)
    assert all(row[2] == chosen for row in findings if len(row) > 1)
    again = driven["steps"]["matrix again"]
    assert len({row[0] for row in again["rows"]}) > 1, "every customer again"
