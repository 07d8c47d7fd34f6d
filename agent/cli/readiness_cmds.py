"""``readiness``: per customer, which sources the agent can read, why not and what fixes it,
and how much of the estate is fully readable (``check --online`` prints the same)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from agent.cli import root
from agent.cli.root import agent_for, fail, settings
from agent.exits import readiness_code


def readiness(
    fmt: Annotated[str, typer.Option("--format", "-f", help="table or json.")] = "table",
) -> None:
    """Check every customer's readiness: consent, permissions, Azure roles, GDAP, carriers."""
    if fmt not in ("table", "json"):
        raise fail(f"--format: expected table or json, got {fmt!r}")
    code = run_readiness(fmt)
    raise typer.Exit(code)


def run_readiness(fmt: str = "table") -> int:
    """Check, print (``table`` on the console, ``json`` on stdout) and return the exit code."""
    from agent.readiness.estate import ReadinessUnavailable, check_readiness
    from agent.readiness.present import print_readiness, to_json

    loaded = settings()
    with agent_for(loaded) as agent:
        try:
            found = check_readiness(agent)
        except ReadinessUnavailable as exc:
            raise fail(str(exc)) from None
    if fmt == "json":
        sys.stdout.write(to_json(found))
    else:
        print_readiness(found, root.out)
    return readiness_code(found.ok, found.listed)
