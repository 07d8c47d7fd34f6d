"""The report's Recognition section: per customer, the credit lines that do not count for us,
with the reason and the remedy; names from Microsoft escaped; the JSON form carries every line."""

from __future__ import annotations

import json
from pathlib import Path

from agent import report
from agent.app import Agent
from agent.config import load_settings
from agent.recognition.present import grouped
from tests.conftest import Clock
from tests.recognition.estate import ELSEWHERE, write_estate
from tests.report.pagedata import tables

HOSTILE = "<script>alert(1)</script> Cobalt & Sons"


def test_section_lists_the_lines_lost_to_us_with_reason_and_remedy(
    tmp_path: Path, clock: Clock
) -> None:
    with Agent(load_settings(write_estate(tmp_path, name=HOSTILE)), clock=clock) as agent:
        agent.cycle()
        data = agent.report_data(agent.clock())
        everything = agent.credit()

    page = report.to_html(data)
    rows = tables(page)["recognition"]["rows"]
    text = json.dumps(rows, ensure_ascii=False)

    assert "<h2>Recognition" in page
    assert "<script>alert" not in page and "\\u003cscript\\u003ealert(1)" in page
    assert "<script>alert(1)</script> Cobalt & Sons" in text, "the name, as data"
    assert "other transacting partner" in text and ELSEWHERE[:8] + "…" in text
    assert "file a CPOR claim (OSU)" in text and "140 seats" in text
    lost = [r for r in everything if r.line.counts_for_us is False]
    assert len(rows) == len(grouped(lost)), "one row per customer, holder, reason and remedy"
    assert sum(
        int(r[1][0].split(" lines:")[0]) if " lines:" in r[1][0] else 1 for r in rows
    ) == len(lost), "every lost line is in a row"
    assert "Delta Foods" in text  # its below-threshold lines do not count either
    counted = json.loads(report.to_json(data))["recognition"]
    assert len(counted) == len(everything)


def test_an_estate_without_lost_lines_says_so(tmp_path: Path, clock: Clock) -> None:
    with Agent(load_settings(write_estate(tmp_path)), clock=clock) as agent:
        data = agent.report_data(agent.clock())  # before any sync: nothing to judge

    table = tables(report.to_html(data))["recognition"]

    assert data.recognition == []
    assert table["rows"] == []
    assert table["empty"] == "every credit line counts for us, or cannot be verified"
