"""The command table: every command and group of the ``partnerlink`` app, in the order
``--help`` lists them, and the console entry point that reports any unexpected error in one
line (exit codes: ``agent.exits``)."""

from __future__ import annotations

import os
import sys

from agent import cli_args as args
from agent import logging as plog
from agent.cli import root
from agent.cli.access_cmds import access
from agent.cli.alerts_cmds import alerts_app
from agent.cli.config_cmds import check, init
from agent.cli.credit_cmds import credit
from agent.cli.findings_cmds import ack, assign, dismiss, explain, findings, snooze, unsnooze
from agent.cli.readiness_cmds import readiness
from agent.cli.report_cmds import matrix, report
from agent.cli.root import app, fail
from agent.cli.run_cmds import audit, cycle, run, status, sync
from agent.cli.tools import auth_app, demo, emulator, pal_app
from agent.exits import EXIT_CONFIG, EXIT_INTERNAL
from agent.memory import limit_arenas

COMMANDS = (
    init,
    check,
    readiness,
    sync,
    audit,
    cycle,
    findings,
    matrix,
    credit,
    report,
    ack,
    snooze,
    assign,
    dismiss,
    unsnooze,
    explain,
    status,
    run,
    access,
    emulator,
    demo,
)
GROUPS = (("auth", auth_app), ("alerts", alerts_app), ("pal", pal_app))

for command in COMMANDS:
    app.command()(command)
for name, group in GROUPS:
    app.add_typer(group, name=name)


def main() -> None:
    """Console entry point: typer, with any unexpected error reported in one line."""
    limit_arenas()  # before any thread starts (agent.memory)
    try:
        app(prog_name="partnerlink")
    except KeyboardInterrupt:
        root.err.print("interrupted")
        sys.exit(130)
    except SystemExit:
        raise
    except args.ArgError as exc:
        fail(str(exc))
        sys.exit(EXIT_CONFIG)
    except Exception as exc:  # pragma: no cover - the last line of defence
        root.err.print(
            f"[bold red]internal error:[/] {type(exc).__name__}: {plog.scrub(str(exc))[:300]}",
            highlight=False,
        )
        if os.environ.get("PARTNERLINK_DEBUG"):
            raise
        sys.exit(EXIT_INTERNAL)
