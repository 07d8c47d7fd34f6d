"""Long output through a pager, on a terminal only: a table taller than the window goes to
``$PAGER`` (``less -R`` by default, through pydoc as rich's pager does). Off a terminal — a pipe,
a file, a test, CI — everything is printed as it is, so scripts never meet a pager."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from rich.cells import cell_len
from rich.console import Console, RenderableType
from rich.table import Table
from rich.text import Text


def interactive(console: Console, environ: Mapping[str, str] | None = None) -> bool:
    """Whether a person reads ``console`` at a terminal: it and stdin are TTYs, TERM is not
    ``dumb``, and neither CI nor ``PARTNERLINK_NO_PAGER`` is set."""
    env = os.environ if environ is None else environ
    if env.get("CI") or env.get("PARTNERLINK_NO_PAGER") or env.get("TERM") == "dumb":
        return False
    return console.is_terminal and sys.stdin.isatty() and console.file.isatty()


def show(
    console: Console,
    renderable: RenderableType,
    *,
    pager: Callable[[str], None] | None = None,
    environ: Mapping[str, str] | None = None,
) -> bool:
    """Print ``renderable`` (a table fitted to the width); through the pager when a person
    reads it and it is taller than the window. Returns whether the pager was used."""
    with paged(console, pager=pager, environ=environ) as used:
        if isinstance(renderable, Table):
            print_table(console, renderable)
        else:
            console.print(renderable)
    return used[0]


def print_table(console: Console, table: Table) -> None:
    """``table`` fitted to the console's width; a large one laid out by
    :class:`agent.large_table.LargeTable` (the same lines, without rich's cost a row)."""
    from agent.large_table import LargeTable, large

    shown = large(fit(table, console.width))
    console.print(shown, crop=not isinstance(shown, LargeTable))


@contextmanager
def paged(
    console: Console,
    *,
    pager: Callable[[str], None] | None = None,
    environ: Mapping[str, str] | None = None,
) -> Iterator[list[bool]]:
    """Everything printed on ``console`` inside the block, through the pager when a person
    reads it and it is taller than the window; printed as it comes otherwise. The list it
    yields says afterwards whether the pager was used."""
    used = [False]
    if not interactive(console, environ):
        yield used
        return
    with console.capture() as captured:
        yield used
    text = captured.get()
    if text.count("\n") < console.size.height - 1:
        console.file.write(text)
        console.file.flush()
        return
    (pager or _system_pager)(text)
    used[0] = True


def fit(table: Table, width: int) -> Table:
    """Set the widths of ``table``'s columns so that it fits ``width`` without splitting a
    word wherever that is possible: each column gets at least its longest word, and the room
    left is shared in proportion to what each column would still use. (Rich's own layout
    shrinks the widest columns first and may cut a word it need not.)"""
    columns = table.columns
    spans = [_span(column.header, column._cells, column.no_wrap) for column in columns]
    overhead = _overhead(table)
    room = width - overhead
    if sum(most for _least, most in spans) <= room:
        return table
    least_total = sum(least for least, _most in spans)
    if least_total > room:
        return table  # a word must be split somewhere: rich decides where
    extra = _share([most - least for least, most in spans], room - least_total)
    for column, (least, _most), more in zip(columns, spans, extra, strict=True):
        column.width = least + more
    return table


def _share(wants: list[int], spare: int) -> list[int]:
    """``spare`` shared out: a column that wants less than an even share gets what it wants,
    the others split the rest evenly (water-filling), so short columns stay whole."""
    given = [0] * len(wants)
    open_ = [i for i, want in enumerate(wants) if want > 0]
    while open_ and spare > 0:
        share = spare // len(open_)
        small = [i for i in open_ if wants[i] <= share]
        if not small:
            for n, i in enumerate(open_):
                given[i] = share + (1 if n < spare - share * len(open_) else 0)
            return given
        for i in small:
            given[i] = wants[i]
            spare -= wants[i]
        open_ = [i for i in open_ if i not in small]
    return given


def _span(header: object, cells: object, no_wrap: bool) -> tuple[int, int]:
    """(longest word, longest line) of a column's header and cells, in terminal cells."""
    least = most = 1
    for cell in [header, *list(cells)]:  # type: ignore[call-overload]
        text = cell.plain if isinstance(cell, Text) else str(cell)
        for line in text.split("\n"):
            most = max(most, cell_len(line))
            words = [cell_len(word) for word in line.split()]
            least = max(least, cell_len(line) if no_wrap else max(words, default=0))
    return least, most


def _overhead(table: Table) -> int:
    """Columns' padding and the dividers between them (and the edges, where shown)."""
    n = len(table.columns)
    left, right = table.padding[3], table.padding[1]
    padding = n * (left + right)
    if not table.pad_edge:
        padding -= left + right
    dividers = (n - 1) if table.box else 0
    edges = 2 if table.box and table.show_edge else 0
    return padding + dividers + edges


def _system_pager(text: str) -> None:
    import pydoc

    os.environ.setdefault("LESS", "-R")  # keep the colours
    pydoc.pager(text)


class ProgressBar:
    """A sync's progress bar on a terminal (``agent.sync.outcome.Progress``); silent otherwise,
    where the logs carry the progress. It counts customers as the run's summary does: each
    customer once, and the total grows when a partner read names more customers than were
    known when the bar started. Log lines go above it: rich redirects ``sys.stderr`` while the
    bar is drawn, and the log handler writes to whatever ``sys.stderr`` is at the time
    (``agent.logging``)."""

    def __init__(self, console: Console) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

        self.enabled = console.is_terminal
        self.progress = Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        self.task: Any = None
        self.total = 0
        self.done: set[str] = set()

    def start(self, total: int) -> None:
        self.total = total
        if self.enabled:
            self.progress.start()
            self.task = self.progress.add_task("syncing customers", total=total)

    def advance(self, customer: str) -> None:
        if customer in self.done:
            return
        self.done.add(customer)
        self.total = max(self.total, len(self.done))
        if self.enabled and self.task is not None:
            self.progress.update(self.task, completed=len(self.done), total=self.total)

    def stop(self) -> None:
        if self.enabled:
            self.progress.stop()
