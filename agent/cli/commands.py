"""The command table: every command and group of the ``partnerlink`` app, in the order
``--help`` lists them, and the console entry point that reports any unexpected error in one
line (exit codes: ``agent.exits``)."""

from __future__ import annotations

import os
import sys

from agent import cli_args as args
from agent import logging as plog
from agent.cli import alerts_cmds, config_cmds, findings_cmds, report_cmds, root, run_cmds, tools
from agent.cli.root import app, fail
from agent.exits import EXIT_CONFIG, EXIT_INTERNAL
from agent.memory import limit_arenas

COMMANDS = (
    config_cmds.init,
    config_cmds.check,
    run_cmds.sync,
    run_cmds.audit,
    run_cmds.cycle,
    findings_cmds.findings,
    report_cmds.matrix,
    report_cmds.report,
    findings_cmds.ack,
    findings_cmds.snooze,
    findings_cmds.unsnooze,
    findings_cmds.explain,
    run_cmds.status,
    run_cmds.run,
    tools.emulator,
    tools.demo,
)
GROUPS = (("auth", tools.auth_app), ("alerts", alerts_cmds.alerts_app), ("pal", tools.pal_app))

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
