"""The tools around the job: the local ``emulator``, the ``demo``, ``auth`` sign-in, and
``pal repair``."""

from __future__ import annotations

import shutil
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer

from agent import logging as plog
from agent.cli import root
from agent.cli.root import agent_for, fail, settings, state
from agent.config import ConfigError
from agent.escape import for_terminal
from agent.exits import EXIT_FAILED, EXIT_OK


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
        root.err.print(f"generated {generate} customers (seed {seed}) in {scenario}")
    path = scenario or bundled_path("demo")
    try:
        serve(path, host, port, ca_out)
    except ScenarioError as exc:
        raise fail(str(exc)) from None
    except OSError as exc:
        raise fail(f"cannot listen on {host}:{port}: {exc.strerror}") from None


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
        code = run_demo(folder, root.out, log_level=state.log_level)
    finally:
        if keep is None:
            shutil.rmtree(folder, ignore_errors=True)
    if keep is not None:
        root.out.print(
            f"\nkept in {keep}: try `partnerlink --config {keep / 'partnerlink.toml'} findings`",
            highlight=False,
        )
    raise typer.Exit(code)


auth_app = typer.Typer(
    help="App+user sign-in for the endpoints that need it.", no_args_is_help=True
)


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
            wiring.tokens.device_code_login(
                root.err.print, resource=wiring.endpoints.partner_center_resource
            )
        except AuthError as exc:
            raise fail(str(exc), EXIT_FAILED) from None
    root.out.print(f"signed in; the refresh token is in {loaded.credentials.refresh_token_file}")


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
    rotated = store.rotated_at()
    dies = f"; dies on {(rotated + timedelta(days=90)).date()} unless used" if rotated else ""
    signed_in = store.signed_in_at()
    since = f"; signed in on {signed_in.date()}" if signed_in else ""
    root.out.print(f"refresh token rotated {age.days} day(s) ago{dies}{since}{warning}")


pal_app = typer.Typer(
    help="Partner Admin Link repair (opt-in: [repair] pal_enabled).", no_args_is_help=True
)


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
                root.out.print("every Partner Admin Link of ours names the right partner ID")
                return
            if dry_run:
                for fix in fixes:
                    root.out.print(for_terminal(f"would send {fix.describe()}"))
                root.out.print(f"{len(fixes)} write(s) planned; nothing sent (--dry-run)")
                return
            results = rep.apply(agent, fixes)
        except ConfigError as exc:
            raise fail(str(exc)) from None
    failed = 0
    for fix, outcome in results:
        failed += outcome.startswith("failed")
        root.out.print(for_terminal(f"{fix.describe()}: {outcome}"))
    root.out.print("the next sync verifies these links")
    raise typer.Exit(EXIT_FAILED if failed else EXIT_OK)
