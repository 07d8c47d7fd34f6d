"""How findings, runs and the matrix look: as a table, JSON or CSV rows, and the one-line
summaries of a sync and an audit. The commands, the report and the demo share these forms;
every stranger's text passes through ``agent.escape`` on its way out."""

from __future__ import annotations

import csv
import io
import json
import re
import sys
from typing import Any

from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

from agent import logging as plog
from agent.escape import for_csv_row, for_terminal
from connectors.text import visible

FINDING_FIELDS = (
    "fingerprint",
    "rule",
    "severity",
    "status",
    "first_seen",
    "last_seen",
    "customer_tenant_id",
    "customer_name",
    "subject",
    "link_kind",
    "title",
    "remediation",
    "value_at_stake",
)
SEVERITY_RANK = {"critical": 0, "high": 1, "medium": 2, "low": 3, "info": 4}
MATRIX_FIELDS = (
    "customer_tenant_id",
    "customer_name",
    "workload",
    "kind",
    "holder",
    "ours",
    "carried_by",
    "state",
    "since",
    "last_seen",
    "acr_usd",
    "mau",
    "seats",
)
SEVERITY_COLOURS = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "cyan"}
STATE_COLOURS = {
    "present": "green",
    "gone": "bold red",
    "disappearing": "red",
    "held_by_other": "yellow",
    "wrong_id": "yellow",
    "missing": "magenta",
}


def finding_dict(finding: Any) -> dict[str, Any]:
    """A finding as plain data: its fields, ISO times, its evidence parsed."""
    data = {name: getattr(finding, name) for name in FINDING_FIELDS}
    for name in ("first_seen", "last_seen"):
        data[name] = data[name].isoformat()
    data["evidence"] = json.loads(finding.evidence or "{}")
    return data


def emit_findings(rows: list[Any], fmt: str, console: Console) -> None:
    """Findings as JSON or CSV on stdout, or as a table on ``console``."""
    if fmt == "json":
        sys.stdout.write(json.dumps([finding_dict(f) for f in rows], indent=2) + "\n")
        return
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=[*FINDING_FIELDS, "evidence"])
        writer.writeheader()
        for f in rows:
            row = finding_dict(f)
            row["evidence"] = json.dumps(row["evidence"], sort_keys=True)
            writer.writerow(for_csv_row(row))
        sys.stdout.write(buffer.getvalue())
        return
    if not rows:
        console.print("no findings")
        return
    findings_table(rows, console)


LARGE_TABLE = 200
"""Rows past which a table is printed as aligned lines instead of a laid-out rich table: rich
lays out every cell of every row first (milliseconds a row), which for the thousands of rows of
a large estate took longer than everything else the command did."""

FINDING_COLUMNS = ("severity", "status", "rule", "customer", "finding", "at stake", "id")
MATRIX_COLUMNS = ("customer", "workload", "link", "holder", "via", "state", "since", "stake")


Cell = tuple[str, str]
"""A table cell: its text, already made visible (``connectors.text.visible``), and its style."""


def cell(text: str, style: str = "") -> Cell:
    """A cell of ``text`` from a stranger or from the agent: control and direction characters
    spelled out, as :func:`agent.escape.for_terminal` does."""
    return visible(text), style


def findings_table(rows: list[Any], console: Console) -> None:
    print_table(
        console, f"{len(rows)} finding(s)", FINDING_COLUMNS, [_finding_cells(f) for f in rows]
    )


def _finding_cells(f: Any) -> list[Cell]:
    return [
        cell(f.severity, SEVERITY_COLOURS.get(f.severity, "")),
        cell(f.status),
        cell(f.rule),
        cell(f.customer_name or f.customer_tenant_id or "(partner)"),
        cell(f.title),
        (f"{f.value_at_stake:,.0f}" if f.value_at_stake else "", ""),
        cell(f.fingerprint[:12]),
    ]


def print_table(
    console: Console, title: str, columns: tuple[str, ...], rows: list[list[Cell]]
) -> None:
    """A rich table; past :data:`LARGE_TABLE` rows, the same cells as aligned lines (styled on
    a terminal, plain text to a file or pipe). No cell is ever read as markup."""
    if len(rows) <= LARGE_TABLE:
        table = Table(title=title, show_lines=False, expand=False)
        for column in columns:
            table.add_column(column, overflow="fold")
        for cells in rows:
            table.add_row(*(Text(text, style=style) for text, style in cells))
        console.print(table)
        return
    widths = [len(c) for c in columns]
    for cells in rows:
        for i, (text, _style) in enumerate(cells):
            widths[i] = max(widths[i], cell_len(text))
    if not console.is_terminal:
        lines = [title, "  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True))]
        lines.append("  ".join("-" * w for w in widths))
        lines += [
            "  ".join(t + " " * (w - cell_len(t)) for (t, _s), w in zip(r, widths, strict=True))
            for r in rows
        ]
        console.file.write("\n".join(lines) + "\n")
        console.file.flush()
        return
    out = Text(title + "\n", style="italic")
    for i, column in enumerate(columns):
        out.append(column.ljust(widths[i] + 2), style="bold")
    out.append("\n" + "  ".join("-" * w for w in widths) + "\n")
    for cells in rows:
        for i, (text, style) in enumerate(cells):
            out.append(text, style=style or None)
            out.append(" " * (widths[i] - cell_len(text) + 2))
        out.append("\n")
    console.print(out, soft_wrap=True)


def print_sync(outcome: Any, console: Console) -> None:
    """A sync run in one line, then what could not be verified, grouped by tenant and cause."""
    stats = outcome.stats()
    console.print(
        f"sync run {outcome.run_id}: [bold]{outcome.status}[/] · {stats['customers']} customers, "
        f"{stats['scopes']} scopes read, {stats['failed']} failed, "
        f"{stats['not_attempted']} not attempted"
        + (f", {stats['carried']} unchanged per the audit records" if stats.get("carried") else "")
        + f" · +{stats['added']} ~{stats['changed']} "
        f"-{stats['removed']} observations · {stats['seconds']:.1f}s",
        highlight=False,
    )
    groups: dict[tuple[str, str], list[Any]] = {}
    for failure in outcome.failed:
        tenant = failure.scope.split("/", 1)[0]
        code = re.search(r"AADSTS\d+|HTTP \d{3}", failure.error or "")
        groups.setdefault((tenant, code.group(0) if code else "error"), []).append(failure)
    for (tenant, cause), failures in list(groups.items())[:10]:
        sources = ", ".join(sorted({f.source for f in failures}))
        detail = plog.scrub(failures[0].error or "")[:140]
        console.print(
            for_terminal(f"  cannot verify {sources} for {tenant} ({cause}): {detail}", "yellow"),
            overflow="ellipsis",
        )
    if len(groups) > 10:
        console.print(f"  ... and {len(groups) - 10} more", style="yellow")


def print_audit(outcome: Any, console: Console) -> None:
    """An audit run in one line: findings new, pending, ongoing, resolved (and held)."""
    s = outcome.summary()
    held = f", {s['suspect']} held as suspect" if s.get("suspect") else ""
    console.print(
        f"audit of run {outcome.run_id}: {s['new']} new, {s['pending']} pending, "
        f"{s['ongoing']} ongoing, {s['resolved']} resolved finding(s){held} over "
        f"{s['customers']} customers",
        highlight=False,
    )


def emit_matrix(rows: list[Any], fmt: str, console: Console) -> None:
    """Matrix rows as JSON or CSV on stdout, or as a table on ``console``."""
    if fmt == "json":
        sys.stdout.write(json.dumps([r.as_dict() for r in rows], indent=2) + "\n")
        return
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=list(MATRIX_FIELDS), extrasaction="ignore")
        writer.writeheader()
        for r in rows:
            writer.writerow(for_csv_row({**r.as_dict(), **r.stake}))
        sys.stdout.write(buffer.getvalue())
        return
    matrix_table(rows, console)


def matrix_table(rows: list[Any], console: Console) -> None:
    title = f"association matrix ({len(rows)} rows)"
    print_table(console, title, MATRIX_COLUMNS, [_matrix_cells(r) for r in rows])


def _matrix_cells(r: Any) -> list[Cell]:
    stake = ", ".join(f"{k} {v:,.0f}" for k, v in r.stake.items())
    return [
        cell(r.customer_name),
        cell(r.workload),
        cell(r.kind),
        cell(r.holder or ("us" if r.ours else "-")),
        cell(r.carried_by or ""),
        cell(r.state, STATE_COLOURS.get(r.state, "")),
        cell((r.since or "")[:10]),
        (stake, ""),
    ]
