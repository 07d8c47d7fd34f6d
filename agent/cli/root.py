"""The root of the command line: the typer app, its global options (--config, --log-level),
the consoles, and the helpers every command uses to load the config, open the agent and refuse
with one line and an exit code (``agent.exits``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.text import Text

from agent import logging as plog
from agent.config import ConfigError, Settings, load_settings, register_secrets
from agent.escape import for_terminal
from agent.exits import EXIT_CONFIG

app = typer.Typer(
    name="partnerlink",
    help="Keeps a Microsoft partner's recognition links (CSP, GDAP, PAL, DPOR, CPOR) under watch.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# The commands reach these as ``root.out`` and ``root.err`` when they run, so that one swap
# here (a test's recording console) reaches every command.
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
    register_secrets(loaded)
    return loaded


@contextmanager
def agent_for(loaded: Settings) -> Iterator[Any]:
    from agent.app import Agent

    with Agent(loaded) as agent:
        try:
            yield agent
        except ConfigError as exc:
            raise fail(str(exc)) from None


def write_private(path: Path, text: str) -> None:
    """Write a file that may hold customer data or secrets: 0600 (agent.files), or exit 2."""
    from agent import files

    try:
        files.write_private(path, text)
    except OSError as exc:
        raise fail(f"cannot write {path}: {exc.strerror}") from None
