"""The terminal's plumbing: the pager only for a person at a terminal, tables fitted without
splitting words, the progress bar counting what the summary counts, logs above the bar."""

from __future__ import annotations

import io
import re

import pytest
import structlog
from rich.console import Console
from rich.table import Table

from agent.terminal import ProgressBar, fit, interactive, paged, show
from tests.logs import project_logging

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def _tall(rows: int) -> Table:
    table = Table("n", "words")
    for n in range(rows):
        table.add_row(str(n), "some words in a row")
    return table


@pytest.fixture
def person(monkeypatch: pytest.MonkeyPatch) -> Console:
    """A console as a person at a 80x24 terminal has it."""
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    return Console(file=_Tty(), force_terminal=True, width=80, height=24)


def test_a_table_taller_than_the_window_goes_to_the_pager(person: Console) -> None:
    paged: list[str] = []
    assert show(person, _tall(60), pager=paged.append, environ={}) is True
    assert len(paged) == 1 and "some words in a row" in paged[0]
    assert person.file.getvalue() == ""  # type: ignore[attr-defined]


def test_a_short_table_is_printed_and_the_pager_is_never_met_off_a_terminal(
    person: Console,
) -> None:
    paged: list[str] = []
    assert show(person, _tall(5), pager=paged.append, environ={}) is False
    assert show(person, _tall(60), pager=paged.append, environ={"CI": "true"}) is False
    assert show(person, _tall(60), pager=paged.append, environ={"TERM": "dumb"}) is False
    piped = Console(file=io.StringIO(), width=80, height=24)
    assert not interactive(piped, {})
    assert show(piped, _tall(60), pager=paged.append, environ={}) is False
    assert paged == []
    assert "some words in a row" in piped.file.getvalue()  # type: ignore[attr-defined]


def test_fit_gives_each_column_its_longest_word_before_sharing_the_rest() -> None:
    table = Table("customer", "finding", "at stake")
    table.add_row("Harbor Retail Group", "word " * 40 + "managementpartner", "21,000 USD")
    fit(table, 50)
    out = Console(file=io.StringIO(), width=50)
    out.print(table)
    text = out.file.getvalue()  # type: ignore[attr-defined]
    assert "managementpartner" in text and "21,000" in text and "Retail" in text
    assert max(len(line) for line in text.splitlines()) <= 50


def test_the_bar_counts_each_customer_once_and_grows_with_late_customers() -> None:
    console = Console(file=_Tty(), force_terminal=True, width=80)
    bar = ProgressBar(console)
    bar.start(2)
    for customer in ("a", "b", "a", "c"):  # c is named by a partner read after the start
        bar.advance(customer)
    task = bar.progress.tasks[0]
    bar.stop()
    assert (task.completed, task.total) == (3, 3)


def test_logs_are_printed_above_the_bar_not_into_it(capsys: pytest.CaptureFixture[str]) -> None:
    screen = _Tty()
    console = Console(file=screen, force_terminal=True, width=80)
    with project_logging():
        from agent import logging as plog

        plog.configure("info", "console")  # onto sys.stderr as it is at each write
        bar = ProgressBar(console)
        bar.start(3)
        bar.advance("a")
        structlog.get_logger("t").warning("read_retried", tenant="Harbor")
        bar.stop()
    assert "read_retried" not in capsys.readouterr().err, "not past the bar onto the terminal"
    lines = [_ANSI.sub("", line).replace("\r", "\n") for line in screen.getvalue().split("\n")]
    logged = [piece for line in lines for piece in line.split("\n") if "read_retried" in piece]
    assert logged, "the log line reached the terminal through the bar's console"
    assert all("syncing customers" not in piece for piece in logged), logged


def test_a_long_explanation_printed_in_pieces_is_paged_as_one(person: Console) -> None:
    paged_text: list[str] = []
    with paged(person, pager=paged_text.append, environ={}) as used:
        for n in range(40):
            person.print(f"line {n}", highlight=False)
    assert used == [True] and "line 0" in paged_text[0] and "line 39" in paged_text[0]
    with paged(person, pager=paged_text.append, environ={}) as used:
        person.print("one line")
    assert used == [False] and "one line" in person.file.getvalue()  # type: ignore[attr-defined]
