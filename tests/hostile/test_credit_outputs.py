"""The credit view with the hostile names of ``names.py``: the table shows them as written,
CSV neutralises formulas, JSON escapes every non-ASCII character, the report section escapes
HTML."""

from __future__ import annotations

import io
import json

from rich.console import Console

from agent.app import Agent
from agent.config import load_settings
from agent.recognition import present
from agent.recognition.view import CreditRow
from tests.hostile import inert
from tests.hostile.conftest import Estate
from tests.hostile.test_outputs import CLEANED, run, terminal
from tests.recognition.support import licence, lines

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


def test_credit_summary_shows_names_literally_and_inert() -> None:
    """The demo's credit summary (customer by solution area) with every hostile name."""
    rows = [
        CreditRow(f"c{n:07d}-0000-4000-8000-{n:012d}", name, line)
        for n, name in enumerate(CLEANED.values())
        for line in lines(licence("O365_BUSINESS_PREMIUM", 9))
    ]
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, color_system="truecolor", width=400)
    console.print(present.to_summary(rows))
    shown = screen.getvalue()

    inert.terminal(shown, "credit summary")
    assert "[bold red]Fabrikam[/]" in shown
    assert "under threshold 1" in shown
