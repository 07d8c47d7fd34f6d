"""The report: self-contained HTML with charts, rendered by headless Chromium without console
errors; the JSON and CSV forms; the evidence pack."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from agent import report, report_html
from agent.app import Agent
from agent.charts import line_chart
from agent.config import load_settings
from tests.conftest import Clock
from tests.e2e.test_cycles import make_config, write_world
from tests.worlds import C1, C2, SUB1, SUB2, customer

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("report")
    config = make_config(folder, resolve_after_runs=1)
    clock = Clock()
    for pal in ("4100002", None, None):  # present, then gone: history and findings
        write_world(folder, customer(C1, SUB1, pal=pal), customer(C2, SUB2))
        clock.advance(days=1)
        with Agent(load_settings(config), clock=clock) as agent:
            agent.cycle()
    return config


def _data(config: Path) -> report.ReportData:
    settings = load_settings(config)
    with Agent(settings) as agent:
        return report.collect(
            agent.store,
            partner="Test Partner",
            our_ids=settings.partner.ids(),
            global_id=settings.partner.global_partner_id,
            disappeared_after=2,
            now=agent.clock(),
        )


def test_page_is_self_contained_with_one_chart_per_coverage_series(world: Path) -> None:
    page = report.to_html(_data(world))
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page, re.S)
    assert [attrs for attrs, _body in scripts] == [' type="application/json" id="report-data"', ""]
    assert scripts[1][1] == report_html.script(), "the page's own script, nothing else"
    assert f"script-src &#x27;{report_html.script_hash()}&#x27;" in page, "allowed by its hash"
    assert "unsafe-inline" not in page.split("script-src", 1)[1].split(";", 1)[0]
    assert not re.search(r'(src|href)\s*=\s*["\']?https?:', page), "nothing loaded from outside"
    assert page.count('<figure class="chart"') == 4
    assert page.count("<svg") + page.count("chart-note") == 4 and '<path d="M' in page
    assert 'id="matrix"' in page and 'id="customers"' in page
    assert "Link disappeared" in page, "the rule by its title"


def test_a_chart_of_one_run_says_so_instead_of_drawing_a_dot() -> None:
    one = [{"at": "2026-12-01T02:00:00+00:00", "customers": 0.5}]
    chart = line_chart(one, "customers", "customers with a link of ours", "#000")
    assert chart.svg == "" and chart.note.startswith("one run so far: 50 % on 2026-12-01")
    two = [*one, {"at": "2026-12-09T02:00:00+00:00", "customers": 0.75}]
    drawn = line_chart(two, "customers", "customers with a link of ours", "#000").svg
    assert ">2026-12-01<" in drawn and ">2026-12-09<" in drawn and ">2026-12-05<" in drawn
    assert drawn.count("<circle") == 2


def test_json_and_csv_carry_the_same_matrix(world: Path) -> None:
    data = _data(world)
    as_json = json.loads(report.to_json(data))
    assert len(as_json["history"]) == 3
    assert {"customers", "azure_subscriptions", "mau", "acr"} <= set(as_json["history"][0])
    rows = report.to_csv(data).strip().splitlines()
    assert len(rows) == len(as_json["matrix"]) + 1


def test_evidence_pack_lists_links_and_their_history(world: Path) -> None:
    with Agent(load_settings(world)) as agent:
        text = report.evidence_pack(agent.store, C1, now=agent.clock())
    assert text.startswith("# Partner association evidence")
    assert "| pal |" in text and "changed" in text and "## Findings" in text


@pytest.mark.skipif(
    CHROMIUM is None, reason="Debian's chromium is not installed (.ci/run installs it)"
)
def test_page_renders_in_headless_chromium_without_console_errors(
    world: Path, tmp_path: Path
) -> None:
    page = tmp_path / "report.html"
    page.write_text(report.to_html(_data(world)), encoding="utf-8")
    assert CHROMIUM is not None
    base = [CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run(
        [*base, "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert dom.stdout.count("<svg") + dom.stdout.count("chart-note") == 4
    assert "Association matrix" in dom.stdout
    shot = tmp_path / "report.png"
    rendered = subprocess.run(
        [
            *base,
            "--enable-logging=stderr",
            "--v=0",
            "--window-size=1280,1600",
            f"--screenshot={shot}",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert shot.stat().st_size > 10_000
    console = [line for line in rendered.stderr.splitlines() if "CONSOLE" in line]
    assert console == [], console
