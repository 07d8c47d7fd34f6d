"""Large tables as aligned lines: past :data:`LARGE_TABLE` rows, rich's layout of every cell
of every row (milliseconds a row) took longer than everything else a command did at 20,000
customers, so the same cells are printed as aligned lines (styled on a terminal, plain text to a
file or pipe). No cell is ever read as markup."""

from __future__ import annotations

from rich.cells import cell_len
from rich.console import Console
from rich.table import Table
from rich.text import Text

from connectors.text import visible

LARGE_TABLE = 200
"""Rows past which a table is printed as aligned lines instead of a laid-out rich table: rich
lays out every cell of every row first (milliseconds a row), which for the thousands of rows of
a large estate took longer than everything else the command did."""

Cell = tuple[str, str]
"""A table cell: its text, already made visible (``connectors.text.visible``), and its style."""


def cell(text: str, style: str = "") -> Cell:
    """A cell of ``text`` from a stranger or from the agent: control and direction characters
    spelled out, as :func:`agent.escape.for_terminal` does."""
    return visible(text), style


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
