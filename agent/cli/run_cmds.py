"""The jobs: ``sync``, ``audit``, ``cycle`` once, ``run`` as a daemon, and the ``status`` of
the runs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer

from agent.cli import root
from agent.cli.root import agent_for, fail, settings
from agent.exits import EXIT_FAILED, sync_code
from agent.names import Names
from agent.present import new_table, print_audit, print_sync
from agent.terminal import ProgressBar


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
    with agent_for(loaded) as agent, sole_runner():
        outcome = agent.sync(progress=ProgressBar(root.err), full=full)
        names = Names.from_store(agent.store)
    print_sync(outcome, root.out, names)
    raise typer.Exit(sync_code(outcome.status))


@contextmanager
def sole_runner() -> Iterator[None]:
    """Another agent syncing the same store is a clear refusal, not a traceback."""
    from agent.lock import LockHeld

    try:
        yield
    except LockHeld as held:
        raise fail(
            f"another agent is syncing this store ({held.holder or 'holder unknown'}); "
            "run again when it has finished",
            EXIT_FAILED,
        ) from None


def audit() -> None:
    """Audit the newest finished sync run."""
    from agent.audit.engine import NothingToAudit

    loaded = settings()
    with agent_for(loaded) as agent:
        try:
            outcome = agent.audit()
        except NothingToAudit as exc:
            raise fail(str(exc), EXIT_FAILED) from None
    print_audit(outcome, root.out)


def cycle(
    full: bool = typer.Option(False, "--full", help="Read every scope (see `sync --full`)."),
) -> None:
    """Sync, then audit: the nightly job, once."""
    loaded = settings()
    with agent_for(loaded) as agent, sole_runner():
        synced, audited = agent.cycle(progress=ProgressBar(root.err), full=full)
        names = Names.from_store(agent.store)
    print_sync(synced, root.out, names)
    if audited is not None:
        print_audit(audited, root.out)
    raise typer.Exit(sync_code(synced.status))


def status() -> None:
    """The newest runs and the findings by status."""
    loaded = settings()
    with agent_for(loaded) as agent:
        runs = agent.store.runs(10)
        counts = agent.store.active_finding_count()
    table = new_table("recent runs")
    for column in ("run", "started (UTC)", "status", "customers", "failed", "audited"):
        table.add_column(
            column, justify="right" if column in ("run", "customers", "failed") else "left"
        )
    for run in runs:
        stats = json.loads(run.stats or "{}")
        table.add_row(
            str(run.id),
            run.started_at.strftime("%Y-%m-%d %H:%M:%S"),
            run.status,
            str(stats.get("customers", "")),
            str(stats.get("failed", "")),
            "yes" if run.audited_at else "no",
        )
    root.out.print(table)
    root.out.print(
        "active findings: " + (", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "none")
    )


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
