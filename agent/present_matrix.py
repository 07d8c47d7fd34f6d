"""How the association matrix looks: JSON, CSV, and a table that fits 100 columns and reads
at 80 (a customer named once, subscriptions by name, the holder folded into the state, the
stake once per workload, in its units). The ``matrix`` command and the report share it."""

from __future__ import annotations

import csv
import io
import json
import sys
from typing import Any

from rich.console import Console
from rich.table import Table

from agent.escape import for_csv_row, for_terminal
from agent.matrix import MatrixRow
from agent.names import Names
from agent.present import longest_word, new_table, out, rows_note, rows_title
from agent.stakes import summed

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
    "since_from",
    "last_seen",
    "acr_usd",
    "mau",
    "seats",
)
STATE_COLOURS = {
    "present": "green",
    "gone": "bold red",
    "disappearing": "red",
    "held_by_other": "yellow",
    "wrong_id": "yellow",
    "missing": "magenta",
}
STATE_WORDS = {"held_by_other": "held by other", "wrong_id": "wrong ID"}
KIND_WORDS = {"indirect_reseller": "CSP indirect"}


def emit_matrix(
    rows: list[Any],
    fmt: str,
    console: Console,
    *,
    names: Names | None = None,
    wide: bool = False,
    pager: bool = False,
    limit: int = 0,
) -> None:
    """Matrix rows as JSON or CSV on stdout, or as a table on ``console`` (of its first
    customers' rows, about ``limit`` of them, where ``limit`` is set)."""
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
    out(console, matrix_table(rows, names or Names(), wide=wide, limit=limit), pager)


def matrix_stake(stake: dict[str, Any]) -> list[str]:
    """A matrix row's stake, one line per unit."""
    return summed([{"stake": stake}]).lines()


def matrix_table(
    rows: list[MatrixRow], names: Names, *, wide: bool = False, limit: int = 0
) -> Table:
    """One row per customer, workload, link kind and state: the customer named once, the
    stake once per workload, rows that differ only in what carries the link (an identity,
    Microsoft's report) shown once with the earliest date; ``--wide`` shows each, with IDs.
    Where ``limit`` is set, only the first customers' rows, whole customers until ``limit``
    rows are reached, the table saying so."""
    distinct = rows if wide else _distinct(rows)
    shown = _first_customers(distinct, limit) if limit else distinct
    names.read(r.customer_tenant_id for r in shown)
    table = _framed(rows, distinct, shown)
    columns = ["customer", "workload", "link", "state", "since", "stake"]
    if wide:
        columns[3:4] = ["holder", "via", "state"]
    longest = {
        "customer": longest_word(names.customer(r.customer_tenant_id) for r in shown),
        "workload": longest_word(names.workload(r.workload) for r in shown),
    }
    for column in columns:
        table.add_column(
            column,
            justify="right" if column == "stake" else "left",
            no_wrap=column in ("since", "holder", "stake"),
            min_width=min(longest.get(column, 4), 20),
        )
    previous: tuple[str, str] | None = None
    for r in shown:
        first = previous is None or r.customer_tenant_id != previous[0]
        same_workload = previous == (r.customer_tenant_id, r.workload)
        previous = (r.customer_tenant_id, r.workload)
        name = names.customer(r.customer_tenant_id, r.customer_name) if first else ""
        if wide and first:
            name = f"{name}\n{r.customer_tenant_id}"
        stake = "" if same_workload else "\n".join(matrix_stake(r.stake))
        cells = [
            for_terminal(name, "bold", multiline=True),
            for_terminal(r.workload if wide else names.workload(r.workload)),
            for_terminal(KIND_WORDS.get(r.kind, r.kind.upper())),
            for_terminal(_state_words(r, wide), STATE_COLOURS.get(r.state, "")),
            for_terminal(_since(r)),
            for_terminal(stake, multiline=True),
        ]
        if wide:
            cells[3:3] = [
                for_terminal(r.holder or ("us" if r.ours else "-")),
                for_terminal(r.carried_by or ""),
            ]
        table.add_row(*cells)
    return table


def _framed(rows: list[MatrixRow], distinct: list[MatrixRow], shown: list[MatrixRow]) -> Table:
    """The matrix table's title and notes: how many rows and customers, which are shown, and
    what a mark means."""
    customers = len({r.customer_tenant_id for r in rows})
    table = new_table(
        f"association matrix: {len(rows):,} row(s), {customers:,} customer(s)"
        + rows_title(len(shown), len(distinct))
    )
    notes = []
    if len(distinct) < len(rows):
        notes.append("a link seen through several identities or reports: one row (--wide: each)")
    if any(r.since and r.since_from != "microsoft" for r in shown):
        notes.append("~ first seen by the agent: Microsoft gives no date for it")
    if len(shown) < len(distinct):
        notes.append(rows_note(len(distinct) - len(shown), "every row"))
    table.caption = "\n".join(notes) or None
    table.caption_justify = "left"
    return table


def _first_customers(rows: list[MatrixRow], limit: int) -> list[MatrixRow]:
    """The rows of the first customers, whole, until ``limit`` rows are reached."""
    if len(rows) <= limit:
        return rows
    end = limit
    while end < len(rows) and rows[end].customer_tenant_id == rows[end - 1].customer_tenant_id:
        end += 1
    return rows[:end]


def _distinct(rows: list[MatrixRow]) -> list[MatrixRow]:
    """Rows that differ only in what carries the link, once: the earliest ``since`` kept."""
    seen: dict[tuple[Any, ...], MatrixRow] = {}
    for r in rows:
        key = (r.customer_tenant_id, r.workload, r.kind, r.holder, r.ours, r.state)
        kept = seen.get(key)
        if kept is None or (r.since or "9") < (kept.since or "9"):
            seen[key] = r
    return list(seen.values())


def _state_words(r: MatrixRow, wide: bool) -> str:
    """The state in words; in the narrow table with the holder folded in."""
    words = STATE_WORDS.get(r.state, r.state)
    if wide or r.state in ("present", "missing") or not r.holder:
        return words
    if r.state == "held_by_other":
        return f"held by {r.holder}"
    return f"{words} ({r.holder})"


def _since(r: MatrixRow) -> str:
    """The date a link has held since: Microsoft's own where it gives one, else when the agent
    first saw it (marked ``~``)."""
    if not r.since:
        return ""
    return r.since[:10] + ("" if r.since_from == "microsoft" else "~")
