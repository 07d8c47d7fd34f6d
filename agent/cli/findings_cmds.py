"""The findings: list them (``findings``), read one (``explain``), and decide about one
(``ack``, ``snooze``, ``assign``, ``dismiss``, ``unsnooze``) through ``agent.acting``, the
service the daemon's page acts through too."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.text import Text

from agent import cli_args as args
from agent.cli import root
from agent.cli.root import agent_for, fail, settings
from agent.escape import for_terminal
from agent.names import Names
from agent.present import TABLE_ROWS, emit_findings, finding_order
from agent.terminal import paged


def findings(
    fmt: Annotated[str, typer.Option("--format", "-f", help="table, json or csv.")] = "table",
    status: Annotated[
        list[str] | None, typer.Option("--status", help="Repeatable; default: every active one.")
    ] = None,
    rule: Annotated[list[str] | None, typer.Option("--rule", help="Repeatable.")] = None,
    severity: Annotated[
        list[str] | None, typer.Option("--severity", help="Repeatable: critical ... info.")
    ] = None,
    customer: Annotated[
        list[str] | None, typer.Option("--customer", help="Tenant id or customer name.")
    ] = None,
    all_: Annotated[bool, typer.Option("--all", help="Include resolved findings.")] = False,
    wide: Annotated[
        bool, typer.Option("--wide", help="Table: every finding on its own row, IDs in full.")
    ] = False,
    limit: Annotated[
        int,
        typer.Option(
            "--limit",
            min=0,
            help="Table: at most this many rows, the most important first (0: every row). "
            "JSON and CSV give every finding.",
        ),
    ] = TABLE_ROWS,
) -> None:
    """List findings: open first, then most severe and most valuable."""
    from agent.store.models import ACTIVE_STATUSES

    if fmt not in ("table", "json", "csv"):
        raise fail(f"--format: expected table, json or csv, got {fmt!r}")
    status = args.choices("--status", status, args.finding_statuses())
    rule = args.choices("--rule", rule, args.rule_ids())
    severity = args.choices("--severity", severity, args.severities())
    loaded = settings()
    statuses = None if all_ else (status or sorted(str(s) for s in ACTIVE_STATUSES))
    with agent_for(loaded) as agent:
        rows = agent.store.finding_rows(
            statuses=statuses,
            rules=rule,
            customers=args.customers("--customer", customer, agent.store.customer_names),
        )
        rows = [f for f in rows if severity is None or f.severity in severity]
        if fmt != "table":  # the table orders its rows itself
            rows.sort(key=finding_order)
        names = Names.lazy(agent.store)  # the names of the rows shown only
        emit_findings(rows, fmt, root.out, names=names, wide=wide, pager=True, limit=limit)


ID = Annotated[str, typer.Argument(help="Finding id (a unique prefix will do).")]
BY = Annotated[
    str | None, typer.Option("--by", help="Who decides (default: your login name), for the record.")
]


def _act(fingerprint: str, act: str, by: str | None, **request: Any) -> None:
    """Decide about a finding through the service the daemon's page uses (``agent.acting``)."""
    from agent.acting import act as apply
    from agent.audit.decisions import Act, Request

    loaded = settings()
    with agent_for(loaded) as agent:
        try:
            wanted = Request(Act(act), actor=by or _login(), **request)
            finding = apply(agent.store, fingerprint, wanted, agent.clock())
        except (LookupError, ValueError) as exc:
            raise fail(str(exc)) from None
    now = f"{finding.fingerprint[:12]} is now {finding.status}: {finding.title}"
    root.out.print(for_terminal(now))


def _login() -> str:
    """The name of whoever runs the command, as the record's "who"."""
    import getpass

    try:
        return f"{getpass.getuser()} (command line)"
    except (KeyError, OSError):  # no login name in this container
        return "someone at the command line"


def ack(
    fingerprint: ID,
    owner: Annotated[str | None, typer.Option(help="Who follows it up.")] = None,
    reason: Annotated[str | None, typer.Option(help="Why, for the team.")] = None,
    by: BY = None,
) -> None:
    """Acknowledge a finding: someone owns it; it stops repeating until it changes."""
    _act(fingerprint, "ack", by, owner=owner, reason=reason or "")


def snooze(
    fingerprint: ID,
    until: Annotated[str, typer.Option(help='A date (2026-12-31) or a duration ("7d").')],
    owner: Annotated[str | None, typer.Option(help="Who follows it up.")] = None,
    reason: Annotated[str | None, typer.Option(help="Why.")] = None,
    by: BY = None,
) -> None:
    """Snooze a finding until a date; it comes back by itself if still true then."""
    from datetime import UTC, datetime

    end = args.until(until, datetime.now(UTC))
    _act(fingerprint, "snooze", by, owner=owner, reason=reason or "", until=end)


def assign(
    fingerprint: ID,
    owner: Annotated[str, typer.Argument(help="Who follows it up (a name or an address).")],
    reason: Annotated[str | None, typer.Option(help="Why, for the team.")] = None,
    by: BY = None,
) -> None:
    """Give a finding an owner; its status stays as it is."""
    _act(fingerprint, "assign", by, owner=owner, reason=reason or "")


def dismiss(
    fingerprint: ID,
    reason: Annotated[str, typer.Option(help="Why the risk is accepted (required).")],
    by: BY = None,
) -> None:
    """Dismiss a finding as an accepted risk: silent until its condition changes (another
    holder, another end date, a higher severity) or it resolves."""
    _act(fingerprint, "dismiss", by, reason=reason)


def unsnooze(
    fingerprint: ID,
    reason: Annotated[str | None, typer.Option(help="Why.")] = None,
    by: BY = None,
) -> None:
    """Bring a snoozed, acknowledged or dismissed finding back to open."""
    _act(fingerprint, "reopen", by, reason=reason or "")


def explain(fingerprint: ID) -> None:
    """Why a finding exists: its evidence, its life, and the observations behind it."""
    loaded = settings()
    with agent_for(loaded) as agent:
        try:
            finding = agent.store.finding(fingerprint)
        except LookupError as exc:  # an ambiguous prefix lists the candidates
            raise fail(str(exc)) from None
        if finding is None:
            raise fail(f"no finding with id {fingerprint}")
        events = agent.store.finding_events(finding.fingerprint)
        history = (
            agent.store.observation_history(finding.customer_tenant_id)
            if finding.customer_tenant_id
            else []
        )
        rule_lines = _recognition_rule_lines(agent, finding.evidence)
        names = Names.from_store(agent.store)
    with paged(root.out):
        _print_finding(finding)
        if rule_lines:
            root.out.print("\n[bold]recognition rule behind it[/]")
        for line in rule_lines:
            root.out.print(for_terminal(line))
        _print_life(events)
        _print_observations(finding.link_kind, history, names)


def _recognition_rule_lines(agent: Any, evidence: str | None) -> list[str]:
    """The recognition rule a finding's evidence names, with its sources (agent.recognition)."""
    from agent.recognition.present import rule_lines

    return rule_lines(agent.rulebook(), evidence)


def _print_finding(finding: Any) -> None:
    """What the finding says, who owns it, what to do, and its evidence."""
    root.out.rule(for_terminal(f"{finding.severity} · {finding.status} · {finding.rule}"))
    root.out.print(for_terminal(finding.title))
    where = finding.customer_tenant_id or "partner"
    root.out.print(for_terminal(f"customer: {finding.customer_name or '-'} ({where})"))
    root.out.print(
        f"first seen {finding.first_seen.isoformat(timespec='seconds')}, last seen "
        f"{finding.last_seen.isoformat(timespec='seconds')}, {finding.hits} run(s)",
        highlight=False,
    )
    if finding.owner or finding.note:
        root.out.print(for_terminal(f"owner: {finding.owner or '-'} · note: {finding.note or '-'}"))
    if finding.status == "dismissed":
        root.out.print("dismissed as an accepted risk: silent until its condition changes")
    root.out.print(
        Text.assemble(
            "\n", ("what to do", "bold"), ": ", for_terminal(finding.remediation, multiline=True)
        )
    )
    root.out.print("\n[bold]evidence[/]")
    root.out.print(_evidence_json(finding.evidence))


def _print_life(events: list[Any]) -> None:
    """The finding's status changes, oldest first."""
    root.out.print("\n[bold]life[/]")
    for e in events:
        moved = f"{e.from_status or 'new'} → {e.to_status}"
        if e.actor:  # a person's decision: what, who, why
            said = f"{e.action} by {e.actor}" + (f": {e.note}" if e.note else "")
        else:
            said = e.note or ""
        root.out.print(
            for_terminal(
                f"  {e.at.isoformat(timespec='seconds')}  {moved}" + (f"  ({said})" if said else "")
            )
        )


def _print_observations(kind: str | None, history: list[Any], names: Names) -> None:
    """The last 25 observation changes of the customer that bear on the finding's link kind."""
    relevant = [
        (e, o)
        for e, o in history
        if kind is None
        or kind in o.kind
        or kind in (e.payload or "")
        or o.kind in ("pal_link", "identity", "gdap_relationship", "attribution")
    ]
    if relevant:
        root.out.print("\n[bold]observations behind it[/] (newest last)")
        for e, o in relevant[-25:]:
            root.out.print(
                for_terminal(
                    f"  {e.at:%Y-%m-%d %H:%M:%S}  run {e.run_id:<4} {e.change:<8} "
                    f"{o.source} {o.kind} " + names.text(o.key.replace("|", " · "))
                )
            )


def _evidence_json(evidence: str | None) -> Text:
    """A finding's evidence as indented, highlighted JSON; names inside it stay literal."""
    from rich.highlighter import JSONHighlighter

    pretty = json.dumps(json.loads(evidence or "{}"), indent=2, ensure_ascii=False)
    return JSONHighlighter()(for_terminal(pretty, multiline=True))
