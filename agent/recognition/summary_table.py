"""The credit view's summary for a terminal (``partnerlink credit`` on a large estate): three
tables and a line saying how to see the lines themselves. Customer names come from Microsoft:
each is shown inert (``agent.escape.for_terminal``); a stake keeps its unit."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.table import Table
from rich.text import Text

from agent.escape import for_terminal
from agent.present import new_table
from agent.recognition.credit import METRIC_NAMES, Reason
from agent.recognition.model import AREA_NAMES
from agent.recognition.present import REASON_LABELS
from agent.recognition.stake import Unit
from agent.recognition.summary import CreditSummary, Figure
from agent.stakes import amount
from agent.terminal import fit, paged

VERDICTS = {0: "does not count", 1: "cannot verify", 2: "counts"}
_STYLE = {0: "bold red", 1: "yellow", 2: "green"}
HOW_TO_SEE = (
    "to see the lines: --customer NAME (one customer), --not-counting, --area AREA, "
    "--all (every line), --format csv or json (every line, for a script)"
)


def stake_text(figures: Sequence[Figure]) -> str:
    """One line per unit kind: ``12,400 USD``, ``3,100 users (12 lines without data)``."""
    lines = []
    for figure in figures:
        kind = (Unit(figure.unit), figure.currency)
        text = amount(kind, figure.total)
        if figure.unknown and figure.total is not None:
            text += f" ({figure.unknown:,} line{'s' if figure.unknown != 1 else ''} without data)"
        elif figure.unknown:
            text += f" on {figure.unknown:,} line{'s' if figure.unknown != 1 else ''}"
        lines.append(text)
    return "\n".join(lines) or "-"


def tables(summary: CreditSummary) -> list[Table]:
    """The verdicts, the lines lost or unverified by reason and area, the customers that lose
    the most."""
    verdicts = new_table(
        f"credit view: {summary.lines:,} lines of {summary.customers:,} customers, summed"
    )
    for column in ("verdict", "lines", "customers", "at stake"):
        verdicts.add_column(column, justify="right" if column in ("lines", "customers") else "left")
    for code, tally in summary.verdicts:
        verdicts.add_row(
            Text(VERDICTS[code], _STYLE[code]),
            f"{tally.lines:,}",
            f"{tally.customers:,}",
            stake_text(tally.figures),
        )
    groups = new_table("lines that do not count or cannot be verified, by reason and metric")
    for column in ("why", "solution area · metric", "lines", "customers", "at stake"):
        groups.add_column(column, justify="right" if column in ("lines", "customers") else "left")
    for group in summary.groups:
        groups.add_row(
            Text(REASON_LABELS.get(Reason(group.reason), group.reason), _STYLE[group.counts]),
            f"{AREA_NAMES.get(group.area, group.area)} · "
            f"{METRIC_NAMES.get(group.metric, group.metric)}",
            f"{group.tally.lines:,}",
            f"{group.tally.customers:,}",
            stake_text(group.tally.figures),
        )
    losing = dict(summary.verdicts).get(0)
    of = f" of {losing.customers:,}" if losing else ""
    losers = new_table(f"customers that lose the most ({len(summary.losers)}{of})")
    for column in ("customer", "lines lost", "at stake"):
        losers.add_column(column, justify="right" if column == "lines lost" else "left")
    for loser in summary.losers:
        losers.add_row(
            for_terminal(loser.name, "bold"), f"{loser.lines:,}", stake_text(loser.figures)
        )
    return [verdicts, groups, losers]


def print_summary(console: Console, summary: CreditSummary) -> None:
    """The summary's tables fitted to the terminal (through the pager when taller), then how
    to see the lines."""
    with paged(console):
        for table in tables(summary):
            console.print(fit(table, console.width))
            console.print()
        console.print(
            "at stake: each customer's largest figure in a unit, added across customers; "
            "units are never added to one another",
            style="dim",
            highlight=False,
        )
        console.print(HOW_TO_SEE, highlight=False)
