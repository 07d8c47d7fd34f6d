"""A large table is laid out by ``agent.large_table`` in one pass: the same lines, colours
included, as rich prints for it, at every width, with strangers' text as inert as ever."""

from __future__ import annotations

import io
import random
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from rich.console import Console
from rich.table import Table

from agent.large_table import LARGE, LargeTable, large
from agent.matrix import MatrixRow
from agent.names import Names
from agent.present import findings_table
from agent.present_matrix import matrix_table
from agent.terminal import fit, print_table

WORDS = [
    *[
        "GDAP",
        "relationship",
        "Managed",
        "services",
        "with",
        "Contoso",
        "ends",
        "in",
        "days",
        "and",
        "will",
        "not",
    ],
    *[
        "auto-extend",
        "send",
        "a",
        "new",
        "request",
        "in",
        "Partner",
        "Center",
        "least-privilege",
        "roles",
    ],
]
STRANGE = [
    "[bold red]not markup[/]",
    "Ｗｉｄｅ 名前 株式会社",
    "emoji 🚀🚀 rocket",
    "\x1b[31mred\x1b[0m and \u202etxet\u202c",
    "a-very-long-word-that-cannot-fit-on-any-line-of-a-narrow-column-at-all-ever",
    "tab\there and\r\nbreak",
    "",
]


def _text(rng: random.Random, words: int) -> str:
    return " ".join(rng.choice(WORDS + STRANGE) for _ in range(words))


def _findings(n: int) -> list[Any]:
    rng = random.Random(7)
    at = datetime(2026, 12, 1, tzinfo=UTC)
    rows = []
    for i in range(n):
        tenant = f"c0000000-0000-4000-8000-{i // 3:012x}"
        rows.append(
            SimpleNamespace(
                fingerprint=f"{i:032x}",
                rule=rng.choice(["gdap_expiring", "link_missing", "link_held_by_other"]),
                severity=rng.choice(["critical", "high", "medium", "low", "info"]),
                status=rng.choice(["open", "open", "acknowledged"]),
                first_seen=at,
                last_seen=at,
                customer_tenant_id=tenant,
                customer_name=_text(rng, 2) or "Someone",
                subject=f"gdap {tenant}",
                link_kind="gdap",
                title=_text(rng, rng.randint(3, 40)),
                remediation=_text(rng, rng.randint(0, 30)),
                value_at_stake=0.0,
                evidence=f'{{"at_stake": {{"acr_usd": {rng.randint(0, 9000)}}}}}',
            )
        )
    return rows


def _matrix(n: int) -> list[MatrixRow]:
    rng = random.Random(11)
    return [
        MatrixRow(
            customer_tenant_id=f"c0000000-0000-4000-8000-{i // 4:012x}",
            customer_name=_text(rng, 2),
            workload=rng.choice(["tenant", "m365", f"azure:{i:08x}-0000-4000-8000-000000000000"]),
            kind=rng.choice(["gdap", "pal", "dpor", "indirect_reseller"]),
            holder=rng.choice([None, "5300001", _text(rng, 1)]),
            ours=rng.random() < 0.5,
            carried_by=rng.choice([None, "app-1"]),
            state=rng.choice(["present", "gone", "held_by_other", "wrong_id", "missing"]),
            since=rng.choice([None, "2026-01-02T00:00:00+00:00"]),
            last_seen=None,
            stake=rng.choice([{}, {"acr_usd": 1234.5, "seats": 20}, {"mau": 7}]),
            since_from=rng.choice(["microsoft", "first seen"]),
        )
        for i in range(n)
    ]


def _printed(table: Table, width: int, colour: bool, ours: bool) -> str:
    out = io.StringIO()
    console = Console(
        file=out,
        width=width,
        force_terminal=colour,
        color_system="truecolor" if colour else None,
        legacy_windows=False,
    )
    fit(table, width)
    if ours:
        console.print(LargeTable(table), crop=False)
    else:
        console.print(table)
    return out.getvalue()


@pytest.mark.parametrize("width", [40, 60, 80, 100, 160])
@pytest.mark.parametrize("colour", [False, True])
@pytest.mark.parametrize("wide", [False, True])
@pytest.mark.parametrize("kind", ["findings", "matrix"])
def test_the_lines_are_riches_own(width: int, colour: bool, wide: bool, kind: str) -> None:
    def table() -> Table:
        if kind == "findings":
            return findings_table(_findings(90), Names(), wide=wide)
        return matrix_table(_matrix(120), Names(), wide=wide)

    assert _printed(table(), width, colour, ours=True) == _printed(
        table(), width, colour, ours=False
    )


def test_only_large_tables_of_the_common_frame_are_laid_out_here() -> None:
    small = findings_table(_findings(20), Names(), wide=True)
    assert large(small) is small
    big = findings_table(_findings(LARGE + 1), Names(), wide=True)
    assert isinstance(large(big), LargeTable)
    boxed = Table("a")
    for i in range(LARGE + 1):
        boxed.add_row(str(i))
    assert large(boxed) is boxed, "another frame: rich lays it out"


def test_print_table_writes_strangers_text_literally() -> None:
    out = io.StringIO()
    console = Console(file=out, width=120, force_terminal=True, color_system="truecolor")
    print_table(console, findings_table(_findings(LARGE * 2), Names(), wide=True))
    shown = out.getvalue()
    assert "[bold red]not markup[/]" in shown
    assert "\\x1b[31mred\\x1b[0m" in shown and "\\u202etxet\\u202c" in shown
    assert "\x1b[31mred" not in shown and "\u202e" not in shown


@pytest.mark.parametrize("wide", [False, True])
@pytest.mark.parametrize("limit", [1, 7, 40, 500])
def test_the_first_rows_are_those_of_the_whole_order(wide: bool, limit: int) -> None:
    """Only the statuses and severities the first rows come from are ranked by stake: the
    rows shown, and the count of every row, are those of the table ranked in full."""
    rows = _findings(300)
    whole = findings_table(rows, Names(), wide=wide)
    first = findings_table(rows, Names(), wide=wide, limit=limit)
    shown = len(first.rows)
    assert shown == min(limit, len(whole.rows))
    for mine, theirs in zip(first.columns, whole.columns, strict=True):
        assert [str(c) for c in mine._cells] == [str(c) for c in theirs._cells][:shown]
    assert str(whole.title) in str(first.title)
