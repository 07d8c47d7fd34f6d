"""The credit view (``credit``): who earns the recognition per customer, solution area and
metric, whether it counts for us, and if not, why and what to do.

Past ``LARGE_TABLE`` lines (a large estate has hundreds of thousands) the table form is a
summary the database sums from the view the audit kept; ``--all`` lists every line as aligned
lines, and JSON and CSV always carry every line."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from agent import cli_args as args
from agent.aligned import LARGE_TABLE, Cell, cell, print_table
from agent.cli import root
from agent.cli.root import agent_for, fail, settings
from agent.exits import EXIT_FAILED
from agent.memory import collector_paused
from agent.names import Names
from agent.terminal import show


def credit(
    fmt: Annotated[str, typer.Option("--format", "-f", help="table, json or csv.")] = "table",
    customer: Annotated[
        list[str] | None, typer.Option("--customer", help="Tenant id or customer name.")
    ] = None,
    area: Annotated[
        list[str] | None, typer.Option("--area", help="Repeatable: modern_work, security, ...")
    ] = None,
    not_counting: Annotated[
        bool, typer.Option("--not-counting", help="Only the lines that do not count for us.")
    ] = False,
    wide: Annotated[
        bool, typer.Option("--wide", help="Table: one row per credit line, IDs in full.")
    ] = False,
    every: Annotated[
        bool,
        typer.Option("--all", help=f"Table: every line, even past {LARGE_TABLE} (no summary)."),
    ] = False,
    summed: Annotated[
        bool, typer.Option("--summary", help="Table: the summary, however few the lines.")
    ] = False,
) -> None:
    """The credit view: who earns the recognition per customer, solution area and metric."""
    from agent.recognition.model import AREA_NAMES
    from agent.recognition.summary_table import print_summary
    from agent.recognition.view import NothingToShow

    if fmt not in ("table", "json", "csv"):
        raise fail(f"--format: expected table, json or csv, got {fmt!r}")
    areas = args.choices("--area", area, AREA_NAMES)
    loaded = settings()
    with agent_for(loaded) as agent, collector_paused():  # every line: many objects
        tenants = args.customers("--customer", customer, agent.store.customer_names)
        try:
            with agent.credit_view(tenants, areas=areas, not_counting=not_counting) as view:
                listed = fmt != "table" or every or (not summed and view.count() <= LARGE_TABLE)
                summary = None if listed else view.summary()
                rows = view.rows() if listed else []
        except NothingToShow as exc:
            raise fail(str(exc), EXIT_FAILED) from None
        names = Names.from_store(agent.store) if fmt == "table" and listed else None
        if summary is not None:
            print_summary(root.out, summary)
        else:
            _emit(rows, fmt, names or Names(), wide=wide)


def _emit(rows: list[Any], fmt: str, names: Names, *, wide: bool) -> None:
    """Every line: JSON, CSV, a table, or past ``LARGE_TABLE`` aligned lines."""
    from agent.recognition import present

    if fmt == "json":
        sys.stdout.write(present.to_json(rows))
    elif fmt == "csv":
        sys.stdout.write(present.to_csv(rows))
    elif len(rows) <= LARGE_TABLE:
        show(root.out, present.to_table(rows, names, wide=wide))
    else:  # thousands of lines: aligned lines, not a laid-out table (agent.aligned)
        title = f"credit view ({len(rows)} line(s))"
        print_table(root.out, title, COLUMNS, [_cells(row) for row in rows])


COLUMNS = ("customer", "area · metric", "holder", "counts", "why", "stake", "remedy")
_COUNTS_STYLE = {"yes": "green", "no": "bold red", "cannot verify": "yellow"}


def _cells(row: Any) -> list[Cell]:
    """The cells of ``present.to_table``'s row, for the aligned form of a large view."""
    line = row.line
    return [
        cell(row.customer_name),
        cell(line.title),
        cell(row.holder_text),
        cell(row.counts_text, _COUNTS_STYLE.get(row.counts_text, "")),
        cell(f"{line.reason.value}: {line.words}"),
        cell(str(line.stake)),
        cell(line.remedy.words if line.remedy else "-"),
    ]
