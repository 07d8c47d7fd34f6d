"""What the store knows, for people: the association ``matrix`` and the ``report`` (HTML page,
JSON or CSV, a customer's evidence pack)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from agent import cli_args as args
from agent.cli import root
from agent.cli.root import agent_for, fail, settings, write_private
from agent.names import Names
from agent.present import TABLE_ROWS
from agent.present_matrix import emit_matrix


def matrix(
    fmt: Annotated[str, typer.Option("--format", "-f", help="table, json or csv.")] = "table",
    customer: Annotated[
        list[str] | None, typer.Option("--customer", help="Tenant id or customer name.")
    ] = None,
    workload: Annotated[str | None, typer.Option(help="Prefix: m365, azure, tenant, ...")] = None,
    gaps: Annotated[bool, typer.Option("--gaps", help="Only what is not as it should be.")] = False,
    wide: Annotated[
        bool, typer.Option("--wide", help="Table: IDs in full, and the identity carrying a link.")
    ] = False,
    limit: Annotated[
        int,
        typer.Option(
            "--limit",
            min=0,
            help="Table: the first customers' rows, about this many (0: every row). "
            "JSON and CSV give every row.",
        ),
    ] = TABLE_ROWS,
) -> None:
    """The association matrix: who holds which link for every customer and workload."""
    if fmt not in ("table", "json", "csv"):
        raise fail(f"--format: expected table, json or csv, got {fmt!r}")
    loaded = settings()
    with agent_for(loaded) as agent:
        rows = agent.matrix(
            args.customers("--customer", customer, agent.store.customer_names),
            gaps_only=gaps,
            # a table of its first rows needs the stakes and dates of those alone
            detailed=limit if fmt == "table" and workload is None else 0,
        )
        rows = [
            r
            for r in rows
            if (not gaps or r.gap) and (workload is None or r.workload.startswith(workload))
        ]
        names = Names.lazy(agent.store)  # the names of the rows shown only
        emit_matrix(rows, fmt, root.out, names=names, wide=wide, pager=True, limit=limit)


def report(
    html_file: Annotated[
        Path | None, typer.Option("--html", help="Write the HTML page here.")
    ] = None,
    fmt: Annotated[
        str | None, typer.Option("--format", "-f", help="json or csv, to stdout.")
    ] = None,
    evidence: Annotated[
        str | None,
        typer.Option("--evidence", help="Customer (tenant id or name): write its evidence pack."),
    ] = None,
    output: Annotated[Path | None, typer.Option("--out", help="File for --evidence.")] = None,
) -> None:
    """The report: coverage over time, the matrix with its gaps, open findings."""
    from agent import report as rep

    if html_file is None and fmt is None and evidence is None:
        raise fail("give --html FILE, --format json|csv, or --evidence CUSTOMER")
    if fmt not in (None, "json", "csv"):
        raise fail(f"--format: expected json or csv, got {fmt!r}")
    loaded = settings()
    with agent_for(loaded) as agent:
        now = agent.clock()
        if evidence is not None:
            tenant = args.customer("--evidence", evidence, agent.store.customer_names)
            text = rep.evidence_pack(agent.store, tenant, now=now)
            if output is None:
                sys.stdout.write(text)
            else:
                write_private(output, text)
                root.out.print(f"wrote {output}")
            return
        data = agent.report_data(now, every_line=fmt == "json")
    if html_file is not None:
        write_private(html_file, rep.to_html(data))
        root.out.print(f"wrote {html_file}")
    if fmt == "json":
        sys.stdout.write(rep.to_json(data))
    elif fmt == "csv":
        sys.stdout.write(rep.to_csv(data))
