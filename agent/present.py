"""How findings, runs and the matrix look: as a table, JSON or CSV rows, and the one-line
summaries of a sync and an audit. The commands, the report and the demo share these forms;
every stranger's text passes through ``agent.escape`` on its way out."""

from __future__ import annotations

import csv
import io
import json
import sys
from typing import Any

from rich.console import Console
from rich.table import Table

from agent import logging as plog
from agent.audit.blind import blind_spots
from agent.escape import for_csv_row, for_terminal
from agent.recognition.stake import rank_key as stake_rank

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


def at_stake(evidence: Any) -> dict[str, Any]:
    """The stake a finding's evidence carries (``at_stake``), or ``{}`` where none rides."""
    stake = evidence.get("at_stake") if isinstance(evidence, dict) else None
    return stake if isinstance(stake, dict) else {}


def finding_order(severity: str, evidence: Any, title: str) -> tuple[Any, ...]:
    """The order findings are listed in: by severity, then by stake within one unit group only
    (money per currency, then monthly active users, then paid seats; "no data" after the known
    stakes, findings without a stake last): a dollar is never weighed against a user."""
    stake = at_stake(evidence)
    rank = stake_rank(stake.get("unit"), stake.get("currency"), stake.get("value"))
    return (SEVERITY_RANK.get(severity, 9), not stake, *rank, title)


def emit_findings(rows: list[Any], fmt: str, console: Console) -> None:
    """Findings as JSON or CSV on stdout, or as a table on ``console``."""
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
    console.print(findings_table(rows))


def findings_table(rows: list[Any]) -> Table:
    table = Table(title=f"{len(rows)} finding(s)", show_lines=False, expand=False)
    for column in ("severity", "status", "rule", "customer", "finding", "at stake", "id"):
        table.add_column(column, overflow="fold")
    for f in rows:
        table.add_row(
            for_terminal(f.severity, SEVERITY_COLOURS.get(f.severity, "")),
            for_terminal(f.status),
            for_terminal(f.rule),
            for_terminal(f.customer_name or f.customer_tenant_id or "(partner)"),
            for_terminal(f.title),
            for_terminal(at_stake(json.loads(f.evidence or "{}")).get("text", "")),
            for_terminal(f.fingerprint[:12]),
        )
    return table


def print_sync(outcome: Any, console: Console) -> None:
    """A sync run in one line, then what could not be verified, grouped by cause."""
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
    print_unread(outcome.failed, console)


def print_unread(failed: list[Any], console: Console) -> None:
    """What could not be read, one line per cause (those hitting most tenants first): the cause
    in plain words first (so a narrow terminal cuts the list, never the cause), then the sources
    and the tenants it hit."""
    spots = blind_spots(((f.source, f.scope, "failed", f.error or "") for f in failed), {})
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
    console.print(matrix_table(rows))


def matrix_table(rows: list[Any]) -> Table:
    table = Table(title=f"association matrix ({len(rows)} rows)")
    for column in ("customer", "workload", "link", "holder", "via", "state", "since", "stake"):
        table.add_column(column, overflow="fold")
    for r in rows:
        stake = ", ".join(f"{k} {v:,.0f}" for k, v in r.stake.items())
        table.add_row(
            for_terminal(r.customer_name),
            for_terminal(r.workload),
            for_terminal(r.kind),
            for_terminal(r.holder or ("us" if r.ours else "-")),
            for_terminal(r.carried_by or ""),
            for_terminal(r.state, STATE_COLOURS.get(r.state, "")),
            for_terminal((r.since or "")[:10]),
            stake,
        )
    return table
