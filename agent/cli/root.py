"""The ``partnerlink`` command line.

Exit codes (also in the README):

====  ==========================================================================
0     success
1     internal error (a bug: please report it with the log)
2     usage or configuration error (the message names the file and the key)
3     the run finished partially: some sources could not be read for some scopes
4     the run failed: nothing could be read, or there is nothing to audit yet
====  ==========================================================================
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from enum import IntEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from agent import cli_args as args
from agent import logging as plog
from agent.config import ConfigError, Settings, load_settings, redacted, source_file
from agent.escape import for_csv_row, for_terminal
from agent.memory import limit_arenas

EXIT_OK, EXIT_INTERNAL, EXIT_CONFIG, EXIT_PARTIAL, EXIT_FAILED = 0, 1, 2, 3, 4


class Exit(IntEnum):
    OK = EXIT_OK
    INTERNAL = EXIT_INTERNAL
    CONFIG = EXIT_CONFIG
    PARTIAL = EXIT_PARTIAL
    FAILED = EXIT_FAILED


app = typer.Typer(
    name="partnerlink",
    help="Keeps a Microsoft partner's recognition links (CSP, GDAP, PAL, DPOR, CPOR) under watch.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console()
err = Console(stderr=True)


class State:
    config: Path | None = None
    log_level: str | None = None


state = State()


@app.callback()
def _global(
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            "-c",
            help="Config file (default: $PARTNERLINK_CONFIG, else ./partnerlink.toml).",
            envvar="PARTNERLINK_CONFIG",
        ),
    ] = None,
    log_level: Annotated[
        str | None, typer.Option("--log-level", help="debug, info, warning or error.")
    ] = None,
) -> None:
    state.config = config
    state.log_level = log_level


def fail(message: str, code: int = EXIT_CONFIG) -> typer.Exit:
    err.print(
        Text.assemble(("error:", "bold red"), " ", for_terminal(message)),
        soft_wrap=True,
    )
    return typer.Exit(code)


def settings(required: bool = True) -> Settings:
    try:
        loaded = load_settings(state.config, required=required)
    except ConfigError as exc:
        raise fail(str(exc)) from None
    plog.configure(state.log_level or loaded.logging.level, loaded.logging.format)
    _register_secrets(loaded)
    return loaded


def _register_secrets(s: Settings) -> None:
    creds = [s.credentials, *s.credentials.carriers]
    plog.register_secrets(
        v.get_secret_value()
        for c in creds
        for v in (c.client_secret, c.certificate_password)
        if v is not None
    )
    if s.http.token is not None:
        plog.register_secrets([s.http.token.get_secret_value()])
    from agent.alerts import register_alert_secrets

    register_alert_secrets(s.alerts)


@contextmanager
def agent_for(loaded: Settings) -> Iterator[Any]:
    from agent.app import Agent

    with Agent(loaded) as agent:
        try:
            yield agent
        except ConfigError as exc:
            raise fail(str(exc)) from None


# ---------------------------------------------------------------------------------- init, check


def _write_private(path: Path, text: str) -> None:
    """Write a file that may hold customer data or secrets: 0600 (agent.files), or exit 2."""
    from agent.files import write_private

    try:
        write_private(path, text)
    except OSError as exc:
        raise fail(f"cannot write {path}: {exc.strerror}") from None


@app.command()
def init(
    path: Annotated[Path, typer.Argument(help="Where to write the starter config.")] = Path(
        "partnerlink.toml"
    ),
    force: Annotated[bool, typer.Option(help="Overwrite an existing file.")] = False,
) -> None:
    """Write a starter config (the documented example) to PATH."""
    if path.exists() and not force:
        raise fail(f"{path} exists; pass --force to overwrite it")
    example = _example_config()
    _write_private(path, example)
    out.print(
        f"wrote {path}: fill in [partner] and [credentials], then run "
        f"`partnerlink --config {path} check`"
    )


def _example_config() -> str:
    from importlib import resources

    return (resources.files("agent") / "config.example.toml").read_text(encoding="utf-8")


@app.command()
def check(
    online: Annotated[bool, typer.Option(help="Also sign in to every source.")] = False,
) -> None:
    """Validate the config and print the effective settings, secrets redacted."""
    loaded = settings()
    file = source_file(loaded)
    out.print(f"config: {file or '(defaults and environment only)'} is valid", highlight=False)
    out.print_json(json.dumps(redacted(loaded)))
    if online:
        from agent.online import online_check

        with agent_for(loaded) as agent:
            ok = online_check(agent, out)
        raise typer.Exit(EXIT_OK if ok else EXIT_FAILED)


# ---------------------------------------------------------------------------------- jobs


class _Bar:
    """A progress bar on a terminal; silent otherwise (logs carry the progress then)."""

    def __init__(self) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

        self.enabled = err.is_terminal
        self.progress = Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err,
            transient=True,
        )
        self.task: Any = None

    def start(self, total: int) -> None:
        if self.enabled:
            self.progress.start()
            self.task = self.progress.add_task("syncing customers", total=total)

    def advance(self, customer: str) -> None:
        if self.enabled and self.task is not None:
            self.progress.advance(self.task)

    def stop(self) -> None:
        if self.enabled:
            self.progress.stop()


def _sync_code(status: str) -> int:
    return {"complete": EXIT_OK, "partial": EXIT_PARTIAL}.get(status, EXIT_FAILED)


def _print_sync(outcome: Any) -> None:
    stats = outcome.stats()
    out.print(
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
        out.print(
            for_terminal(f"  cannot verify {sources} for {tenant} ({cause}): {detail}", "yellow"),
            overflow="ellipsis",
        )
    if len(groups) > 10:
        out.print(f"  ... and {len(groups) - 10} more", style="yellow")


def _print_audit(outcome: Any) -> None:
    s = outcome.summary()
    held = f", {s['suspect']} held as suspect" if s.get("suspect") else ""
    out.print(
        f"audit of run {outcome.run_id}: {s['new']} new, {s['pending']} pending, "
        f"{s['ongoing']} ongoing, {s['resolved']} resolved finding(s){held} over "
        f"{s['customers']} customers",
        highlight=False,
    )


@app.command()
def sync(
    full: bool = typer.Option(
        False,
        "--full",
        help="Read every scope, even those the audit "
        "records show unchanged since their last complete read.",
    ),
) -> None:
    """Read every source into the store once."""
    loaded = settings()
    with agent_for(loaded) as agent:
        outcome = agent.sync(progress=_Bar(), full=full)
    _print_sync(outcome)
    raise typer.Exit(_sync_code(outcome.status))


@app.command()
def audit() -> None:
    """Audit the newest finished sync run."""
    from agent.audit import NothingToAudit

    loaded = settings()
    with agent_for(loaded) as agent:
        try:
            outcome = agent.audit()
        except NothingToAudit as exc:
            raise fail(str(exc), EXIT_FAILED) from None
    _print_audit(outcome)


@app.command()
def cycle(
    full: bool = typer.Option(False, "--full", help="Read every scope (see `sync --full`)."),
) -> None:
    """Sync, then audit: the nightly job, once."""
    loaded = settings()
    with agent_for(loaded) as agent:
        synced, audited = agent.cycle(progress=_Bar(), full=full)
    _print_sync(synced)
    if audited is not None:
        _print_audit(audited)
    raise typer.Exit(_sync_code(synced.status))


# ---------------------------------------------------------------------------------- findings

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


def finding_dict(finding: Any) -> dict[str, Any]:
    data = {name: getattr(finding, name) for name in FINDING_FIELDS}
    for name in ("first_seen", "last_seen"):
        data[name] = data[name].isoformat()
    data["evidence"] = json.loads(finding.evidence or "{}")
    return data


@app.command()
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
) -> None:
    """List findings, most severe and most valuable first."""
    from agent.store.models import ACTIVE_STATUSES

    if fmt not in ("table", "json", "csv"):
        raise fail(f"--format: expected table, json or csv, got {fmt!r}")
    status = args.choices("--status", status, args.finding_statuses())
    rule = args.choices("--rule", rule, args.rule_ids())
    severity = args.choices("--severity", severity, args.severities())
    loaded = settings()
    statuses = None if all_ else (status or sorted(str(s) for s in ACTIVE_STATUSES))
    with agent_for(loaded) as agent:
        rows = agent.store.findings(
            statuses=statuses,
            rules=rule,
            customers=args.customers("--customer", customer, agent.store.customer_names),
        )
    rows = [f for f in rows if severity is None or f.severity in severity]
    rows.sort(key=lambda f: (SEVERITY_RANK.get(f.severity, 9), -f.value_at_stake, f.title))
    emit_findings(rows, fmt)


def emit_findings(rows: list[Any], fmt: str) -> None:
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
        out.print("no findings")
        return
    table = Table(title=f"{len(rows)} finding(s)", show_lines=False, expand=False)
    for column in ("severity", "status", "rule", "customer", "finding", "at stake", "id"):
        table.add_column(column, overflow="fold")
    colours = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "cyan"}
    for f in rows:
        table.add_row(
            for_terminal(f.severity, colours.get(f.severity, "")),
            for_terminal(f.status),
            for_terminal(f.rule),
            for_terminal(f.customer_name or f.customer_tenant_id or "(partner)"),
            for_terminal(f.title),
            f"{f.value_at_stake:,.0f}" if f.value_at_stake else "",
            for_terminal(f.fingerprint[:12]),
        )
    out.print(table)


# ---------------------------------------------------------------------------------- matrix


@app.command()
def matrix(
    fmt: Annotated[str, typer.Option("--format", "-f", help="table, json or csv.")] = "table",
    customer: Annotated[
        list[str] | None, typer.Option("--customer", help="Tenant id or customer name.")
    ] = None,
    workload: Annotated[str | None, typer.Option(help="Prefix: m365, azure, tenant, ...")] = None,
    gaps: Annotated[bool, typer.Option("--gaps", help="Only what is not as it should be.")] = False,
) -> None:
    """The association matrix: who holds which link for every customer and workload."""
    if fmt not in ("table", "json", "csv"):
        raise fail(f"--format: expected table, json or csv, got {fmt!r}")
    loaded = settings()
    with agent_for(loaded) as agent:
        rows = agent.matrix(args.customers("--customer", customer, agent.store.customer_names))
    rows = [
        r
        for r in rows
        if (not gaps or r.gap) and (workload is None or r.workload.startswith(workload))
    ]
    if fmt == "json":
        sys.stdout.write(json.dumps([r.as_dict() for r in rows], indent=2) + "\n")
        return
    if fmt == "csv":
        buffer = io.StringIO()
        fields = [
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
        ]
        writer = csv.DictWriter(buffer, fieldnames=fields, extrasaction="ignore")
        writer.writeheader()
        for r in rows:
            writer.writerow(for_csv_row({**r.as_dict(), **r.stake}))
        sys.stdout.write(buffer.getvalue())
        return
    colours = {
        "present": "green",
        "gone": "bold red",
        "disappearing": "red",
        "held_by_other": "yellow",
        "wrong_id": "yellow",
        "missing": "magenta",
    }
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
            for_terminal(r.state, colours.get(r.state, "")),
            for_terminal((r.since or "")[:10]),
            stake,
        )
    out.print(table)


# ---------------------------------------------------------------------------------- report


@app.command()
def report(
    html_file: Annotated[
        Path | None, typer.Option("--html", help="Write the HTML page here.")
    ] = None,
    fmt: Annotated[
        str | None, typer.Option("--format", "-f", help="json or csv, to stdout.")
    ] = None,
    evidence: Annotated[
        str | None,
        typer.Option("--evidence", help="Customer (tenant id or name): write its evidence pack."),
    ] = None,
    output: Annotated[Path | None, typer.Option("--out", help="File for --evidence.")] = None,
) -> None:
    """The report: coverage over time, the matrix with its gaps, open findings."""
    from agent import report as rep

    if html_file is None and fmt is None and evidence is None:
        raise fail("give --html FILE, --format json|csv, or --evidence CUSTOMER")
    if fmt not in (None, "json", "csv"):
        raise fail(f"--format: expected json or csv, got {fmt!r}")
    loaded = settings()
    with agent_for(loaded) as agent:
        now = agent.clock()
        if evidence is not None:
            tenant = args.customer("--evidence", evidence, agent.store.customer_names)
            text = rep.evidence_pack(agent.store, tenant, now=now)
            if output is None:
                sys.stdout.write(text)
            else:
                _write_private(output, text)
                out.print(f"wrote {output}")
            return
        data = agent.report_data(now)
    if html_file is not None:
        _write_private(html_file, rep.to_html(data))
        out.print(f"wrote {html_file}")
    if fmt == "json":
        sys.stdout.write(rep.to_json(data))
    elif fmt == "csv":
        sys.stdout.write(rep.to_csv(data))


# ---------------------------------------------------------------------------------- decisions


def _decide(
    fingerprint: str,
    status: str,
    *,
    owner: str | None,
    reason: str | None,
    until: Any = None,
    allowed: frozenset[str] | None = None,
) -> None:
    from agent.store import FindingStatus
    from agent.store.models import ACTIVE_STATUSES

    loaded = settings()
    with agent_for(loaded) as agent:
        try:
            finding = agent.store.set_finding_status(
                fingerprint,
                FindingStatus(status),
                agent.clock(),
                owner=owner,
                note=reason,
                until=until,
                allowed_from=allowed or ACTIVE_STATUSES,
            )
        except (LookupError, ValueError) as exc:
            raise fail(str(exc)) from None
    out.print(for_terminal(f"{finding.fingerprint[:12]} is now {finding.status}: {finding.title}"))


@app.command()
def ack(
    fingerprint: Annotated[str, typer.Argument(help="Finding id (a unique prefix will do).")],
    owner: Annotated[str | None, typer.Option(help="Who follows it up.")] = None,
    reason: Annotated[str | None, typer.Option(help="Why, for the team.")] = None,
) -> None:
    """Acknowledge a finding: someone owns it; it stops repeating until it changes."""
    _decide(fingerprint, "acknowledged", owner=owner, reason=reason)


@app.command()
def snooze(
    fingerprint: Annotated[str, typer.Argument(help="Finding id (a unique prefix will do).")],
    until: Annotated[str, typer.Option(help='A date (2026-12-31) or a duration ("7d").')],
    owner: Annotated[str | None, typer.Option(help="Who decided.")] = None,
    reason: Annotated[str | None, typer.Option(help="Why.")] = None,
) -> None:
    """Snooze a finding until a date; it comes back by itself if still true then."""
    from datetime import UTC, datetime

    end = args.until(until, datetime.now(UTC))
    _decide(fingerprint, "snoozed", owner=owner, reason=reason, until=end)


@app.command()
def unsnooze(
    fingerprint: Annotated[str, typer.Argument(help="Finding id (a unique prefix will do).")],
) -> None:
    """Bring a snoozed or acknowledged finding back to open."""
    _decide(
        fingerprint,
        "open",
        owner=None,
        reason="unsnoozed",
        allowed=frozenset({"snoozed", "acknowledged"}),
    )


@app.command()
def explain(
    fingerprint: Annotated[str, typer.Argument(help="Finding id (a unique prefix will do).")],
) -> None:
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
    out.rule(for_terminal(f"{finding.severity} · {finding.status} · {finding.rule}"))
    out.print(for_terminal(finding.title))
    where = finding.customer_tenant_id or "partner"
    out.print(for_terminal(f"customer: {finding.customer_name or '-'} ({where})"))
    out.print(
        f"first seen {finding.first_seen.isoformat(timespec='seconds')}, last seen "
        f"{finding.last_seen.isoformat(timespec='seconds')}, {finding.hits} run(s)",
        highlight=False,
    )
    if finding.owner or finding.note:
        out.print(for_terminal(f"owner: {finding.owner or '-'} · note: {finding.note or '-'}"))
    out.print(
        Text.assemble(
            "\n", ("what to do", "bold"), ": ", for_terminal(finding.remediation, multiline=True)
        )
    )
    out.print("\n[bold]evidence[/]")
    out.print(_evidence_json(finding.evidence))
    out.print("\n[bold]life[/]")
    for e in events:
        out.print(
            for_terminal(
                f"  {e.at.isoformat(timespec='seconds')}  {e.from_status or 'new'} → "
                f"{e.to_status}" + (f"  ({e.note})" if e.note else "")
            )
        )
    kind = finding.link_kind
    relevant = [
        (e, o)
        for e, o in history
        if kind is None
        or kind in o.kind
        or kind in (e.payload or "")
        or o.kind in ("pal_link", "identity", "gdap_relationship", "attribution")
    ]
    if relevant:
        out.print("\n[bold]observations behind it[/] (newest last)")
        for e, o in relevant[-25:]:
            out.print(
                for_terminal(
                    f"  {e.at.isoformat(timespec='seconds')}  run {e.run_id:<4} {e.change:<8} "
                    f"{o.source} {o.kind} {o.key}"
                )
            )


def _evidence_json(evidence: str | None) -> Text:
    """A finding's evidence as indented, highlighted JSON; names inside it stay literal."""
    from rich.highlighter import JSONHighlighter

    pretty = json.dumps(json.loads(evidence or "{}"), indent=2, ensure_ascii=False)
    return JSONHighlighter()(for_terminal(pretty, multiline=True))


# ---------------------------------------------------------------------------------- status


@app.command()
def status() -> None:
    """The newest runs and the findings by status."""
    loaded = settings()
    with agent_for(loaded) as agent:
        runs = agent.store.runs(10)
        counts = agent.store.active_finding_count()
    table = Table(title="recent runs")
    for column in ("run", "started", "status", "customers", "failed", "audited"):
        table.add_column(column)
    for run in runs:
        stats = json.loads(run.stats or "{}")
        table.add_row(
            str(run.id),
            run.started_at.isoformat(timespec="seconds"),
            run.status,
            str(stats.get("customers", "")),
            str(stats.get("failed", "")),
            "yes" if run.audited_at else "no",
        )
    out.print(table)
    out.print(
        "active findings: " + (", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "none")
    )


# ---------------------------------------------------------------------------------- daemon


@app.command()
def run(
    once: Annotated[bool, typer.Option(help="Run one cycle under the lock, then exit.")] = False,
) -> None:
    """Run as a daemon: the scheduled cycle, the health endpoint, graceful stop on SIGTERM."""
    from agent.daemon import Daemon

    loaded = settings()
    with agent_for(loaded) as agent:
        daemon = Daemon(agent)
        if once:
            daemon.cycle()
            return
        daemon.run_forever()


# ---------------------------------------------------------------------------------- emulator, auth


@app.command()
def emulator(
    scenario: Annotated[
        Path | None, typer.Option(help="Scenario file (default: the bundled demo world).")
    ] = None,
    host: Annotated[str, typer.Option(help="Address to listen on (loopback by default).")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(help="Port (0: any free port).")] = 8443,
    ca_out: Annotated[
        Path | None, typer.Option("--ca-out", help="Write the emulator's CA certificate here.")
    ] = None,
    generate: Annotated[
        int | None,
        typer.Option(
            "--generate",
            min=0,
            help="Serve a generated estate of N "
            "customers (written to --scenario, or a temporary file).",
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the generated estate.")] = 0,
) -> None:
    """Serve a scenario as a local HTTPS Microsoft (login, Partner Center, Graph, ARM)."""
    from standin.emulator import serve
    from standin.scenario import ScenarioError, bundled_path

    plog.configure(state.log_level or "info", "auto")
    if generate is not None:
        import tempfile

        from standin.scenario.generate import write_scenario

        scenario = write_scenario(
            scenario or Path(tempfile.gettempdir()) / f"partnerlink-estate-{generate}-{seed}.json",
            generate,
            seed,
        )
        err.print(f"generated {generate} customers (seed {seed}) in {scenario}")
    path = scenario or bundled_path("demo")
    try:
        serve(path, host, port, ca_out)
    except ScenarioError as exc:
        raise fail(str(exc)) from None
    except OSError as exc:
        raise fail(f"cannot listen on {host}:{port}: {exc.strerror}") from None


auth_app = typer.Typer(
    help="App+user sign-in for the endpoints that need it.", no_args_is_help=True
)
app.add_typer(auth_app, name="auth")


@auth_app.command("login")
def auth_login() -> None:
    """Sign the partner administrator in once (device code); the refresh token is kept 0600."""
    from connectors.errors import AuthError

    loaded = settings()
    if loaded.credentials.refresh_token_file is None:
        raise fail("credentials.refresh_token_file: set where the refresh token is kept")
    with agent_for(loaded) as agent:
        wiring = agent.wiring()
        try:
            wiring.tokens.device_code_login(err.print)
        except AuthError as exc:
            raise fail(str(exc), EXIT_FAILED) from None
    out.print(f"signed in; the refresh token is in {loaded.credentials.refresh_token_file}")


@auth_app.command("status")
def auth_status() -> None:
    """How old the stored refresh token is (it dies after 90 idle days)."""
    from agent.auth import RefreshTokenStore

    loaded = settings()
    path = loaded.credentials.refresh_token_file
    if path is None:
        raise fail("credentials.refresh_token_file is not set")
    store = RefreshTokenStore(path, warn_after_days=loaded.credentials.refresh_token_warn_days)
    age = store.age()
    if age is None:
        raise fail(f"{path}: no refresh token yet: run `partnerlink auth login`", EXIT_FAILED)
    warning = " [yellow](renew it soon: it dies after 90 idle days)[/]" if store.stale() else ""
    out.print(f"refresh token rotated {age.days} day(s) ago{warning}")


# ---------------------------------------------------------------------------------- alerts

alerts_app = typer.Typer(help="Alert sinks: send a sample, see the outbox.", no_args_is_help=True)
app.add_typer(alerts_app, name="alerts")


@alerts_app.command("test")
def alerts_test(
    sink: Annotated[str, typer.Option("--sink", help="The sink's name in [[alerts.sinks]].")],
) -> None:
    """Send a sample message through one sink, now."""
    import asyncio

    from agent.alerts import DeliveryError, UnknownSink, send_test

    loaded = settings()
    try:
        result = asyncio.run(send_test(loaded.alerts, sink))
    except UnknownSink as exc:
        raise fail(str(exc)) from None
    except DeliveryError as exc:
        raise fail(f"sink {sink}: {exc}", EXIT_FAILED) from None
    out.print(f"sent a sample through {sink}: {result}", highlight=False)


@alerts_app.command("status")
def alerts_status() -> None:
    """The outbox by status (pending, sent, dead...)."""
    loaded = settings()
    with agent_for(loaded) as agent:
        counts = agent.store.outbox_counts()
    out.print(", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "the outbox is empty")


@alerts_app.command("send")
def alerts_send() -> None:
    """Deliver what the outbox holds now (the daemon does this after every cycle)."""
    loaded = settings()
    with agent_for(loaded) as agent:
        agent.deliver_alerts()
    out.print("delivered what could be delivered; see `partnerlink alerts status`")


# ---------------------------------------------------------------------------------- pal repair

pal_app = typer.Typer(
    help="Partner Admin Link repair (opt-in: [repair] pal_enabled).", no_args_is_help=True
)
app.add_typer(pal_app, name="pal")


@pal_app.command("repair")
def pal_repair(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="List the writes; send none.")] = False,
) -> None:
    """Set the right location ID on every identity of ours whose PAL is missing or wrong."""
    from agent import repair as rep

    loaded = settings()
    with agent_for(loaded) as agent:
        try:
            fixes = rep.plan(agent)
            if not fixes:
                out.print("every Partner Admin Link of ours names the right partner ID")
                return
            if dry_run:
                for fix in fixes:
                    out.print(for_terminal(f"would send {fix.describe()}"))
                out.print(f"{len(fixes)} write(s) planned; nothing sent (--dry-run)")
                return
            results = rep.apply(agent, fixes)
        except ConfigError as exc:
            raise fail(str(exc)) from None
    failed = 0
    for fix, outcome in results:
        failed += outcome.startswith("failed")
        out.print(for_terminal(f"{fix.describe()}: {outcome}"))
    out.print("the next sync verifies these links")
    raise typer.Exit(EXIT_FAILED if failed else EXIT_OK)


# ---------------------------------------------------------------------------------- demo


@app.command()
def demo(
    keep: Annotated[
        Path | None, typer.Option("--keep", help="Leave the store and config in this folder.")
    ] = None,
) -> None:
    """Run the whole cycle on the bundled demo world, then on its second state."""
    from agent.demo import run_demo

    if keep is not None and keep.exists() and any(keep.iterdir()):
        raise fail(f"{keep} is not empty; give --keep a new or empty folder")
    folder = keep or Path(tempfile.mkdtemp(prefix="partnerlink-demo-"))
    try:
        code = run_demo(folder, out, log_level=state.log_level)
    finally:
        if keep is None:
            shutil.rmtree(folder, ignore_errors=True)
    if keep is not None:
        out.print(
            f"\nkept in {keep}: try `partnerlink --config {keep / 'partnerlink.toml'} findings`",
            highlight=False,
        )
    raise typer.Exit(code)


def main() -> None:
    """Console entry point: typer, with any unexpected error reported in one line."""
    limit_arenas()  # before any thread starts (agent.memory)
    try:
        app(prog_name="partnerlink")
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
    except SystemExit:
        raise
    except args.ArgError as exc:
        fail(str(exc))
        sys.exit(EXIT_CONFIG)
    except Exception as exc:  # pragma: no cover - the last line of defence
        err.print(
            f"[bold red]internal error:[/] {type(exc).__name__}: {plog.scrub(str(exc))[:300]}",
            highlight=False,
        )
        if os.environ.get("PARTNERLINK_DEBUG"):
            raise
        sys.exit(EXIT_INTERNAL)
