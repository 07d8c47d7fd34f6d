"""The credit view with the hostile names of ``names.py``: the table shows them as written,
CSV neutralises formulas, JSON escapes every non-ASCII character, the report section escapes
HTML."""

from __future__ import annotations

import io
import json

from agent.app import Agent
from agent.config import load_settings
from agent.recognition import present
from tests.hostile import inert
from tests.hostile.conftest import Estate
from tests.hostile.test_outputs import CLEANED, run, terminal

__all__ = ["terminal"]  # the fixture, used by name


def test_credit_table_shows_names_literally(estate: Estate, terminal: io.StringIO) -> None:
    run(estate.config, "credit")
    shown = terminal.getvalue()

    inert.terminal(shown, "credit")
    assert "[bold red]Fabrikam[/]" in shown


def test_credit_csv_and_json_keep_every_name_inert(estate: Estate) -> None:
    rows = inert.csv_cells(run(estate.config, "credit", "--format", "csv"), "credit CSV")
    names = {row["customer_name"] for row in rows}
    assert "'" + CLEANED["formula"] in names

    text = run(estate.config, "credit", "--format", "json")
    assert text.isascii()
    assert {row["customer_name"] for row in json.loads(text)} <= set(CLEANED.values())


def test_recognition_section_escapes_names(estate: Estate) -> None:
    with Agent(load_settings(estate.config)) as agent:
        rows = agent.credit()
    section = present.to_html(rows)

    inert.html_page(f"<!doctype html><html><body>{section}</body></html>", "recognition")
    lost = {r.customer_name for r in rows if r.line.counts_for_us is False}
    assert CLEANED["html_script"] in lost, "the hostile customer has a line that does not count"
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in section
