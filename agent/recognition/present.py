"""The credit view for people and scripts: a terminal table, JSON, CSV, and the report page's
Recognition section. Customer names and holders come from Microsoft, so each form shows them
inert through ``agent.escape``; a stake keeps its unit ("no data" stays "no data")."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter, defaultdict
from collections.abc import Sequence

from rich.table import Table
from rich.text import Text

from agent.escape import for_csv_row, for_html, for_terminal
from agent.names import Names
from agent.present import new_table
from agent.recognition.credit import METRIC_NAMES, Reason
from agent.recognition.model import AREA_NAMES, Rulebook
from agent.recognition.view import CreditRow

CSV_FIELDS = (
    "customer_tenant_id",
    "customer_name",
    "solution_area",
    "metric",
    "track",
    "rule_id",
    "holder_kind",
    "holder",
    "whose",
    "counts_for_us",
    "reason",
    "words",
    "stake",
    "stake_value",
    "stake_unit",
    "stake_currency",
    "remedy",
    "unchecked",
    "sources",
)
_COUNTS_STYLE = {"yes": "green", "no": "bold red", "cannot verify": "yellow"}


def to_json(rows: Sequence[CreditRow]) -> str:
    return json.dumps([row.as_dict() for row in rows], indent=2) + "\n"


def to_csv(rows: Sequence[CreditRow]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_FIELDS, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        data = row.as_dict()
        data["unchecked"] = "; ".join(data["unchecked"])
        data["sources"] = " ".join(data["sources"])
        writer.writerow(for_csv_row(data))
    return buffer.getvalue()


def to_table(rows: Sequence[CreditRow], names: Names | None = None, *, wide: bool = False) -> Table:
    """The credit view for a terminal: the customer named once; lines of one customer with the
    same holder, verdict, reason and remedy in one row listing their metrics; IDs shortened to
    names where known (``--wide``: one row per line, IDs in full)."""
    names = names or Names()
    groups = [[row] for row in rows] if wide else grouped(rows)
    shown = "" if len(groups) == len(rows) else f", {len(groups)} row(s)"
    table = new_table(f"credit view: {len(rows)} line(s){shown}")
    for column in ("customer", "credit line", "counts", "stake", "why, and what would count"):
        table.add_column(column, justify="right" if column == "stake" else "left")
    previous = None
    for members in groups:
        row = members[0]
        line = row.line
        name = row.customer_name if row.customer_tenant_id != previous else ""
        previous = row.customer_tenant_id
        titles = group_title(members)
        holder = row.holder_text if wide else names.text(row.holder_text)
        stakes = "\n".join(dict.fromkeys(str(m.line.stake) for m in members))
        why = f"{line.reason.value.replace('_', ' ')}: {line.words}"
        why = why if wide else names.text(why)
        remedy = line.remedy.words if line.remedy else ""
        table.add_row(
            for_terminal(name, "bold"),
            Text.assemble(for_terminal(titles), "\n", for_terminal(holder, "dim")),
            for_terminal(row.counts_text, _COUNTS_STYLE[row.counts_text]),
            for_terminal(stakes, multiline=True),
            Text.assemble(
                for_terminal(why),
                *(
                    ("\n", for_terminal("would count: ", "green"), for_terminal(remedy))
                    if remedy
                    else ()
                ),
            ),
        )
    return table


REASON_LABELS = {
    Reason.COUNTS: "✓",
    Reason.OTHER_TRANSACTING_PARTNER: "another CSP",
    Reason.OTHER_PARTNER_OF_RECORD: "another partner of record",
    Reason.WRONG_PARTNER_ID: "wrong ID",
    Reason.PAL_MISSING: "PAL missing",
    Reason.TYPE_NOT_ELIGIBLE: "type not counted",
    Reason.BELOW_THRESHOLD: "under threshold",
    Reason.OUTSIDE_TRACK: "other track",
    Reason.NO_ASSOCIATION: "none of ours",
    Reason.CANNOT_VERIFY: "cannot verify",
}
"""Short words for a reason in the summary's cells."""
_AZURE_AREAS = frozenset({"data_ai", "infrastructure", "digital_app_innovation"})
_COLUMNS = (
    ("Azure (3 areas)", _AZURE_AREAS),
    ("Business Applications", frozenset({"business_applications"})),
    ("Modern Work", frozenset({"modern_work"})),
    ("Security", frozenset({"security"})),
)


def reason_counts(rows: Sequence[CreditRow]) -> dict[str, int]:
    """How many credit lines there are for each reason, largest first."""
    counts = Counter(row.line.reason.value for row in rows)
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def to_summary(rows: Sequence[CreditRow]) -> Table:
    """Customer by solution area: how many of its metrics count for us, and why the others do
    not (the three Azure areas share their rules: each rule is counted once)."""
    by_customer: dict[str, dict[str, dict[Reason, set[str]]]] = defaultdict(
        lambda: defaultdict(lambda: defaultdict(set))
    )
    for row in rows:
        for title, areas in _COLUMNS:
            if row.line.solution_area in areas:
                key = f"{row.line.rule_id}|{row.line.track}"
                by_customer[row.customer_name][title][row.line.reason].add(key)
    table = Table(title="credit view by customer and solution area (metrics per reason)")
    table.add_column("customer")
    for title, _areas in _COLUMNS:
        table.add_column(title)
    for name in sorted(by_customer, key=str.lower):
        cells = []
        for title, _areas in _COLUMNS:
            found = by_customer[name].get(title, {})
            parts = [
                for_terminal(f"{REASON_LABELS[reason]} {len(found[reason])}", _style(reason))
                for reason in Reason
                if reason in found
            ]
            cells.append(Text(" · ").join(parts) if parts else Text("-", "dim"))
        table.add_row(for_terminal(name), *cells)
    return table


def _style(reason: Reason) -> str:
    if reason is Reason.COUNTS:
        return "green"
    return "yellow" if reason is Reason.CANNOT_VERIFY else "red"


def grouped(rows: Sequence[CreditRow]) -> list[list[CreditRow]]:
    """Lines of one customer with the same verdict, reason, holder and remedy, together, in
    the order of each group's first line: one row of a table (terminal or page)."""
    groups: dict[tuple[object, ...], list[CreditRow]] = {}
    holders: dict[int, str] = {}  # a holding is shared by the lines it holds: its text, once
    for row in rows:
        line = row.line
        holder = holders.get(id(line.holder))
        if holder is None:
            holder = holders[id(line.holder)] = row.holder_text
        key = (
            row.customer_tenant_id,
            line.counts_for_us,
            line.reason,
            holder,
            line.remedy.words if line.remedy else None,
        )
        groups.setdefault(key, []).append(row)
    return list(groups.values())


def group_title(members: Sequence[CreditRow]) -> str:
    """The credit lines of a row, metrics listed once per area and track: ``Modern Work:
    deployments, usage growth (ENTERPRISE)``."""
    areas: dict[tuple[str, str], list[str]] = {}
    for m in members:
        line = m.line
        metrics = areas.setdefault((line.solution_area, line.track), [])
        name = METRIC_NAMES.get(line.metric, line.metric)
        if name not in metrics:
            metrics.append(name)
    return "; ".join(
        f"{AREA_NAMES.get(area, area)}: {', '.join(metrics)}"
        + (f" ({track.upper()})" if track != "all" else "")
        for (area, track), metrics in areas.items()
    )


def to_html(rows: Sequence[CreditRow]) -> str:
    """The report's Recognition section: per customer, the lines that do not count for us,
    with the reason and the remedy."""
    e = for_html
    lost = [row for row in rows if row.line.counts_for_us is False]
    if not lost:
        return '<p class="muted">every credit line counts for us, or cannot be verified</p>'
    body = "".join(
        f"<tr><td>{e(row.customer_name)}</td><td>{e(AREA_NAMES[row.line.solution_area])}</td>"
        f"<td>{e(row.line.title)}</td><td>{e(row.holder_text)}</td>"
        f"<td>{e(row.line.reason.value)}: {e(row.line.words)}</td>"
        f"<td>{e(str(row.line.stake))}</td>"
        f"<td>{e(row.line.remedy.words if row.line.remedy else '-')}</td></tr>"
        for row in sorted(lost, key=lambda r: (r.customer_name.lower(), r.line.title))
    )
    return (
        '<table id="recognition"><thead><tr><th>customer</th><th>solution area</th>'
        "<th>metric</th><th>holder</th><th>why it does not count</th><th>stake</th>"
        f"<th>what would count</th></tr></thead><tbody>{body}</tbody></table>"
    )


def rule_lines(book: Rulebook, evidence: str | None) -> list[str]:
    """For ``explain``: the recognition rule a finding's evidence names (``recognition_rule``),
    what it counts, and its sources with their own words; nothing when it names none."""
    rule_id = json.loads(evidence or "{}").get("recognition_rule")
    if not isinstance(rule_id, str):
        return []
    try:
        rule = book.rule(rule_id)
    except KeyError:
        return [f"recognition rule {rule_id}: not in the rulebook in force"]
    areas = ", ".join(AREA_NAMES.get(a, a) for a in rule.solution_areas)
    lines = [
        f"recognition rule {rule.id} (as of {rule.as_of}): {areas}, "
        f"{METRIC_NAMES.get(rule.metric, rule.metric)}, track {rule.track}",
        f"  counts: {', '.join(a.label() for a in rule.associations)}",
    ]
    lines += [f"  threshold: {t.text}" for t in rule.thresholds]
    for item in rule.evidence:
        source = item.source
        when = f", {source.published}" if source.published else ""
        lines.append(
            f"  source: {source.title} ({source.publisher or source.key}{when}) {source.url}"
        )
        lines.append(f"    “{item.quote}”")
    return lines
