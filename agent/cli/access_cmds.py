"""``partnerlink access``: the consent and access plan (a dry run by default), sent with
``--apply`` where ``[repair] access_enabled``; Azure Lighthouse templates with ``--lighthouse``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from agent.cli import root
from agent.cli.root import agent_for, fail, settings
from agent.config import ConfigError
from agent.escape import for_terminal
from agent.exits import EXIT_FAILED, EXIT_OK

if TYPE_CHECKING:
    from agent.access.writes import AccessWrite


def access(
    apply: Annotated[
        bool,
        typer.Option("--apply", help="Send the writes (needs [repair] access_enabled)."),
    ] = False,
    lighthouse: Annotated[
        Path | None,
        typer.Option(
            "--lighthouse",
            help="Write an Azure Lighthouse delegation template per customer whose "
            "subscriptions the app cannot read into this folder.",
        ),
    ] = None,
) -> None:
    """Consent the partner's app into customer tenants and give it what it reads with (Graph
    app roles, Azure Reader), through GDAP: lists the writes; sends them with --apply."""
    from agent.access.apply import apply as send
    from agent.access.lighthouse import write_templates
    from agent.access.plan import NothingToPlan, plan

    with agent_for(settings()) as agent:
        try:
            planned = plan(agent)
            templates = write_templates(agent, planned, lighthouse) if lighthouse else {}
            if not planned.writes:
                root.out.print("every customer's tenant is readable: nothing to write")
                return
            if not apply:
                _dry_run(planned.writes, templates)
                return
            results = send(agent, planned)
        except (ConfigError, NothingToPlan) as exc:
            raise fail(str(exc)) from None
    failed = 0
    for write, outcome in results:
        failed += outcome.startswith("failed")
        root.out.print(for_terminal(f"{write.describe()}: {outcome}"))
    root.out.print(
        "a full sync verifies these writes: partnerlink sync --full (a scheduled cycle reads "
        "Azure subscriptions again only for customers Partner Center names, or after "
        "[sync] full_every)"
    )
    raise typer.Exit(EXIT_FAILED if failed else EXIT_OK)


def _dry_run(writes: list[AccessWrite], templates: dict[Path, list[str]]) -> None:
    for write in writes:
        line = f"would send {write.describe()}"
        if write.blocked:
            line = f"blocked ({write.blocked}): {write.describe()}"
        root.out.print(for_terminal(line))
    for path, subs in templates.items():
        for sub in subs:
            root.out.print(
                for_terminal(
                    f"lighthouse: az deployment sub create --subscription {sub} "
                    f"--location <region> --template-file {path}"
                )
            )
    sendable = sum(1 for w in writes if not w.blocked)
    root.out.print(
        f"{len(writes)} write(s) planned, {sendable} sendable; nothing sent (dry run: "
        "--apply sends them)"
    )
