"""Render what a command printed at another terminal width, and check it reads there: no line
wider than the terminal, and no word split across lines.

A :class:`Recorder` is a console 400 columns wide (nothing wraps there) that keeps every
renderable printed on it with its options. :func:`check` prints each again on a console ``width``
columns wide — a table fitted as the commands fit theirs (``agent.terminal.fit``) — and compares
the words: every word of the wide rendering that fits a line must be a word of the narrow one
(a word split in two shows up as two words neither of which is the original)."""

from __future__ import annotations

import copy
import io
import re
from dataclasses import dataclass, field
from typing import Any

from rich.cells import cell_len
from rich.console import Console
from rich.table import Table

from agent.terminal import fit

WIDE = 400
_RULE_CHARS = re.compile(r"^[\u2500-\u257f\-+|]+$")


@dataclass
class Printed:
    kind: str  # "print" or "rule"
    objects: tuple[Any, ...]
    options: dict[str, Any] = field(default_factory=dict)


class Recorder(Console):
    """A console that renders nothing wrapped and remembers what it was asked to print."""

    def __init__(self) -> None:
        super().__init__(file=io.StringIO(), width=WIDE, force_terminal=False, color_system=None)
        self.printed: list[Printed] = []

    def print(self, *objects: Any, **options: Any) -> None:  # type: ignore[override]
        self.printed.append(Printed("print", copy.deepcopy(objects), dict(options)))
        super().print(*objects, **options)

    def rule(self, *objects: Any, **options: Any) -> None:  # type: ignore[override]
        self.printed.append(Printed("rule", copy.deepcopy(objects), dict(options)))
        super().rule(*objects, **options)

    def print_json(self, *objects: Any, **options: Any) -> None:  # type: ignore[override]
        self.printed.append(Printed("json", objects, dict(options)))
        super().print_json(*objects, **options)


def render(printed: list[Printed], width: int) -> str:
    console = Console(file=io.StringIO(), width=width, force_terminal=False, color_system=None)
    for item in printed:
        objects = tuple(
            fit(copy.deepcopy(o), width) if isinstance(o, Table) else copy.deepcopy(o)
            for o in item.objects
        )
        if item.kind == "rule":
            console.rule(*objects, **item.options)
        elif item.kind == "json":
            console.print_json(*objects, **item.options)
        else:
            console.print(*objects, **item.options)
    file = console.file
    assert isinstance(file, io.StringIO)
    return file.getvalue()


def words(text: str) -> list[str]:
    found = []
    for line in text.splitlines():
        for piece in line.split():
            word = piece.strip("│┃")
            if word and not _RULE_CHARS.match(word):
                found.append(word)
    return found


def check(printed: list[Printed], width: int, where: str) -> str:
    """Render ``printed`` at ``width``: no line wider, no word of the wide rendering split."""
    assert printed, f"{where}: nothing was printed"
    narrow = render(printed, width)
    wide = render(printed, WIDE)
    for n, line in enumerate(narrow.splitlines(), 1):
        assert cell_len(line.rstrip()) <= width, f"{where} at {width}: line {n} overflows: {line!r}"
    # A word longer than the line (a long URL, a path) cannot stay whole: it is folded.
    missing = sorted(w for w in set(words(wide)) - set(words(narrow)) if cell_len(w) <= width)
    assert not missing, f"{where} at {width}: words split or lost: {missing[:12]}\n{narrow}"
    return narrow
