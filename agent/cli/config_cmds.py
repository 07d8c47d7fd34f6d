"""``init`` and ``check``: write a starter config; validate one and show it, secrets redacted."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.json import JSON

from agent.cli import root
from agent.cli.root import fail, settings, write_private
from agent.config import redacted, source_file
from agent.escape import for_terminal


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
    write_private(path, example)
    advice = (
        f"wrote {path}: fill in [partner] and [credentials], then run "
        f"`partnerlink --config {path} check`"
    )
    root.out.print(for_terminal(advice))  # literal: rich would read [partner] as markup


def _example_config() -> str:
    from importlib import resources

    return (resources.files("agent") / "config.example.toml").read_text(encoding="utf-8")


def check(
    online: Annotated[
        bool,
        typer.Option(help="Also check every source in every tenant (as `partnerlink readiness`)."),
    ] = False,
) -> None:
    """Validate the config and print the effective settings, secrets redacted."""
    loaded = settings()
    file = source_file(loaded)
    root.out.print(f"config: {file or '(defaults and environment only)'} is valid", highlight=False)
    # Wrapped at the terminal's width (print_json would let a long path run past it).
    root.out.print(JSON(json.dumps(redacted(loaded))))
    if online:
        from agent.cli.readiness_cmds import run_readiness

        raise typer.Exit(run_readiness())
