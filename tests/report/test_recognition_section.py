"""The report's Recognition section: per customer, the credit lines that do not count for us,
with the reason and the remedy; names from Microsoft escaped; the JSON form carries every line."""

from __future__ import annotations

import json
import re
from pathlib import Path

from agent import report
from agent.app import Agent
from agent.config import load_settings
from tests.conftest import Clock
from tests.recognition.estate import ELSEWHERE, write_estate

HOSTILE = "<script>alert(1)</script> Cobalt & Sons"


def _section(page: str) -> str:
    match = re.search(r'<table id="recognition">.*?</table>', page, re.S)
    assert match, "the page has no Recognition table"
    return match.group(0)


def test_section_lists_the_lines_lost_to_us_with_reason_and_remedy(
    tmp_path: Path, clock: Clock
) -> None:
    with Agent(load_settings(write_estate(tmp_path, name=HOSTILE)), clock=clock) as agent:
        agent.cycle()
        data = agent.report_data(agent.clock())
        everything = agent.credit()

    page = report.to_html(data)
    section = _section(page)

    assert "<h2>Recognition" in page
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Cobalt &amp; Sons" in section
    assert "other_transacting_partner" in section and ELSEWHERE in section
    assert "file a CPOR claim (OSU)" in section and "140 seats" in section
    lost = [r for r in everything if r.line.counts_for_us is False]
    assert section.count("<tr>") == len(lost) + 1, "one row per lost line, and the header"
    assert "Delta Foods" in section  # its below-threshold lines do not count either
    counted = json.loads(report.to_json(data))["recognition"]
    assert len(counted) == len(everything)


def test_an_estate_without_lost_lines_says_so(tmp_path: Path, clock: Clock) -> None:
    with Agent(load_settings(write_estate(tmp_path)), clock=clock) as agent:
        data = agent.report_data(agent.clock())  # before any sync: nothing to judge

    page = report.to_html(data)

    assert data.recognition == []
    assert "every credit line counts for us, or cannot be verified" in page
