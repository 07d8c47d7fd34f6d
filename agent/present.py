"""How findings, runs and the matrix look: as a table, JSON or CSV rows, and the one-line
summaries of a sync and an audit. The commands, the report and the demo share these forms;
every stranger's text passes through ``agent.escape`` on its way out.

Tables fit 100 columns and stay readable at 80: names instead of GUIDs (``agent.names``; the
IDs are in JSON, CSV and ``--wide``), rule titles instead of rule IDs, a "what to do" line per
finding, and one row with a count for repeated findings of one rule for one customer."""

from __future__ import annotations

import csv
import io
import json
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from agent import logging as plog
from agent.audit.blind import blind_spots
from agent.escape import for_csv_row, for_terminal
from agent.names import Names
from agent.stakes import summed
from agent.terminal import print_table, show

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
STATUS_RANK = {
    "open": 0,
    "pending": 1,
    "suspect": 2,
    "acknowledged": 3,
    "snoozed": 4,
    "dismissed": 5,
}
"""Open findings before those someone already looks after."""
SEVERITY_COLOURS = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "cyan"}
TITLE_LIMIT = 220
"""Characters of a finding's title in a table; ``explain`` and ``--wide`` show all of it."""
ACTION_LIMIT = 200
DETAIL_LIMIT = 150
"""Characters of a read's error under a sync's summary: ``explain`` shows the whole finding."""
TABLE_ROWS = 200
"""Rows a table of findings or of the matrix shows at the command line unless ``--limit``
says otherwise (the most important findings first; a customer's rows are never split): a
large estate's thousands of rows are no reading for a person. JSON and CSV give every one."""
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z`])")


def at_stake(evidence: Any) -> dict[str, Any]:
    """The stake a finding's evidence carries (``at_stake``), or ``{}`` where none rides."""
    stake = evidence.get("at_stake") if isinstance(evidence, dict) else None
    return stake if isinstance(stake, dict) else {}


def finding_dict(finding: Any) -> dict[str, Any]:
    """A finding as plain data: its fields, ISO times, its evidence parsed, and its stake in
    its own unit (``stake``: "21,000.00 USD", "201 users", "no data"; ``stake_unit``)."""
    data = {name: getattr(finding, name) for name in FINDING_FIELDS}
    for name in ("first_seen", "last_seen"):
        data[name] = data[name].isoformat()
    data["evidence"] = json.loads(finding.evidence or "{}")
    stake = at_stake(data["evidence"])
    data["stake"] = stake.get("text", "")
    data["stake_unit"] = stake.get("unit")
    data["stake_currency"] = stake.get("currency")
    return data


def finding_order(f: Any) -> tuple[Any, ...]:
    """Open first, then most severe, then the largest stake (money, then users, then seats:
    units are never weighed against one another), then by title."""
    return (
        STATUS_RANK.get(f.status, 9),
        SEVERITY_RANK.get(f.severity, 9),
        summed([json.loads(f.evidence or "{}")]).sort_key(),
        f.title,
    )


def emit_findings(
    rows: list[Any],
    fmt: str,
    console: Console,
    *,
    names: Names | None = None,
    wide: bool = False,
    pager: bool = False,
    limit: int = 0,
) -> None:
    """Findings as JSON or CSV on stdout, or as a table on ``console`` (through the pager when
    ``pager`` and a person reads it: ``agent.terminal``), of its first ``limit`` rows where
    ``limit`` is set."""
    if fmt == "json":
        sys.stdout.write(json.dumps([finding_dict(f) for f in rows], indent=2) + "\n")
        return
    if fmt == "csv":
        buffer = io.StringIO()
        fields = [*FINDING_FIELDS, "stake", "stake_unit", "stake_currency", "evidence"]
        writer = csv.DictWriter(buffer, fieldnames=fields)
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
    out(console, findings_table(rows, names or Names(), wide=wide, limit=limit), pager)


@dataclass(slots=True)
class Group:
    """Findings of one rule for one customer in one status: one row of the table."""

    first: Any
    members: list[Any]


def collapse(rows: Sequence[Any]) -> list[Group]:
    """Rows grouped by rule, customer and status, in the order of each group's first row."""
    groups: dict[tuple[str, str, str], Group] = {}
    for f in rows:
        key = (f.rule, f.customer_tenant_id or "", f.status)
        if key in groups:
            groups[key].members.append(f)
        else:
            groups[key] = Group(f, [f])
    return list(groups.values())


def rule_title(rule: str) -> str:
    """A rule's title for people (``Link held by another partner``), else its ID in words."""
    from agent.audit.rules import RULES_BY_ID

    found = RULES_BY_ID.get(rule)
    return found.meta.title if found else rule.replace("_", " ")


def first_step(remediation: str, limit: int = ACTION_LIMIT) -> str:
    """The first sentence of a remediation, cut on a word near ``limit``."""
    step = _SENTENCE_END.split(remediation.strip(), maxsplit=1)[0]
    return clipped(step, limit)


def clipped(text: str, limit: int) -> str:
    """``text`` cut on a word near ``limit``, never inside a `command`: a command is shown
    whole or not at all."""
    if len(text) <= limit:
        return text
    cut = text[:limit].rsplit(" ", 1)[0]
    if cut.count("`") % 2:
        cut = cut[: cut.rindex("`")].rstrip()
    return cut.rstrip(",;:") + " …"


def longest_word(texts: Iterable[str]) -> int:
    """The longest word in ``texts``: a column at least that wide wraps without splitting."""
    return max((len(word) for text in texts for word in text.split()), default=1)


def new_table(title: str) -> Table:
    """The tables' common frame: a rule under the header, no outer edge, so that more
    columns of text fit in 80."""
    return Table(
        title=title,
        box=box.SIMPLE_HEAD,
        padding=(0, 1, 0, 0),
        show_edge=False,
        pad_edge=False,
        title_justify="left",
        title_style="bold",
        expand=False,
    )


def findings_table(rows: list[Any], names: Names, *, wide: bool = False, limit: int = 0) -> Table:
    """Findings most important first, one row per rule, customer and status (``wide``: per
    finding); only the first ``limit`` rows where ``limit`` is set, the table saying so."""
    rows = ordered(rows, limit, wide=wide)
    groups = [Group(f, [f]) for f in rows] if wide else collapse(rows)
    every = len(groups)
    if limit and every > limit:
        groups = groups[:limit]
    table = new_table(f"{len(rows):,} finding(s)" + rows_title(len(groups), every))
    notes = []
    if every < len(rows):
        notes.append("×N: N findings of one rule for one customer (--wide lists each)")
    if len(groups) < every:
        notes.append(rows_note(every - len(groups), "every finding"))
    if notes:
        table.caption = "\n".join(notes)
        table.caption_justify = "left"
    shown = [m for g in groups for m in g.members]
    names.read(f.customer_tenant_id for f in shown)
    longest = longest_word(names.customer(f.customer_tenant_id, f.customer_name) for f in shown)
    table.add_column("customer", ratio=1, min_width=min(max(longest, 12), 20), max_width=20)
    table.add_column("finding", ratio=4, min_width=30)
    table.add_column("at stake", justify="right", no_wrap=True)
    for group in groups:
        f = group.first
        customer = names.customer(f.customer_tenant_id, f.customer_name)
        who = customer + (f"\n{f.customer_tenant_id}" if wide and f.customer_tenant_id else "")
        stake = summed(json.loads(m.evidence or "{}") for m in group.members)
        table.add_row(
            for_terminal(who, multiline=True),
            _finding_cell(group, customer, names, wide=wide),
            for_terminal("\n".join(stake.lines()), multiline=True),
        )
    return table


def ordered(rows: Sequence[Any], limit: int = 0, *, wide: bool = False) -> list[Any]:
    """``rows`` in :func:`finding_order` as far as the table's first ``limit`` rows go: by
    status and severity first, then (the stakes read from each finding's evidence) within the
    statuses and severities those rows come from; the rest follow, counted into their groups
    but not ranked among themselves (a large estate's 19,000 findings for 200 rows)."""
    if not limit:
        return sorted(rows, key=finding_order)

    def tier(f: Any) -> tuple[int, int]:
        return STATUS_RANK.get(f.status, 9), SEVERITY_RANK.get(f.severity, 9)

    coarse = sorted(rows, key=tier)
    seen: set[Any] = set()
    end = 0
    while end < len(coarse) and len(seen) < limit:
        level = tier(coarse[end])
        while end < len(coarse) and tier(coarse[end]) == level:
            f = coarse[end]
            seen.add(id(f) if wide else (f.rule, f.customer_tenant_id or "", f.status))
            end += 1
    return sorted(coarse[:end], key=finding_order) + coarse[end:]


def rows_title(shown: int, every: int) -> str:
    """A table's title's tail when it shows only its first rows."""
    return f", the first {shown:,} of {every:,} rows" if shown < every else ""


def rows_note(more: int, what: str) -> str:
    """A cut table's note: how many rows it leaves out and how to see them."""
    return (
        f"{more:,} more row(s) not shown: --limit 0 shows every row; "
        f"--format csv or json gives {what}"
    )


def _finding_cell(group: Group, customer: str, names: Names, *, wide: bool) -> Text:
    """Severity, rule title (with the count, and the status unless open), the finding, what
    to do, and its id."""
    f, count = group.first, len(group.members)
    head = rule_title(f.rule) + (f" ×{count}" if count > 1 else "")
    status = "" if f.status == "open" else f" · {f.status}"
    title = f.title if wide else clipped(names.text(f.title, drop_customer=customer), TITLE_LIMIT)
    action = f.remediation if wide else first_step(names.text(f.remediation))
    ident = f.fingerprint if wide else f.fingerprint[:12]
    parts: list[Text | str] = [
        for_terminal(f.severity, SEVERITY_COLOURS.get(f.severity, "")),
        " ",
        for_terminal(head, "bold"),
        for_terminal(status, "italic"),
        "\n",
        for_terminal(title),
    ]
    if action:
        parts += ["\n", for_terminal("what to do: ", "green"), for_terminal(action)]
    parts += [for_terminal(f" (id {ident})", "dim")]
    return Text.assemble(*parts)


def print_sync(outcome: Any, console: Console, names: Names | None = None) -> None:
    """A sync run in one line, then what could not be verified, one line per cause."""
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
    print_unread(outcome.failed, console, names or Names())


def print_unread(failed: list[Any], console: Console, names: Names) -> None:
    """What could not be read, one line per cause (those hitting most tenants first): the cause
    in plain words first (so a narrow terminal cuts the list, never the cause), then the sources
    and the tenants it hit."""
    tenants = {f.scope.partition("/")[0] for f in failed}
    known = {t: names.customer(t) for t in tenants if t != "partner"}
    spots = blind_spots(((f.source, f.scope, "failed", f.error or "") for f in failed), known)
    causes: dict[str, tuple[set[str], set[str], set[str]]] = {}
    for spot in spots:
        sources, tenants, codes = causes.setdefault(spot.kind.label, (set(), set(), set()))
        sources.add(spot.source)
        tenants.update(u.name for u in spot.unread)
        codes.update(spot.codes)
    ranked = sorted(causes.items(), key=lambda item: (-len(item[1][1]), item[0]))
    for label, (sources, tenants, codes) in ranked[:10]:
        named = ", ".join(sorted(tenants)[:5])
        more = f" and {len(tenants) - 5} more" if len(tenants) > 5 else ""
        line = (
            f"  {label} ({', '.join(sorted(codes))}): cannot verify "
            f"{', '.join(sorted(sources))} for {named}{more}"
        )
        console.print(for_terminal(plog.scrub(line), "yellow"), overflow="ellipsis")
    if len(causes) > 10:
        console.print(f"  ... and {len(causes) - 10} more causes", style="yellow")


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


def out(console: Console, table: Table, pager: bool) -> None:
    """Print a table fitted to the console; through the pager when ``pager`` (and a person
    reads it)."""
    if pager:
        show(console, table)
    else:
        print_table(console, table)
