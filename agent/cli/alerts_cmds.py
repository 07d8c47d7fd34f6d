"""``alerts``: send a sample through one sink, see the outbox, deliver what it holds."""

from __future__ import annotations

from typing import Annotated

import typer

from agent.cli import root
from agent.cli.root import agent_for, fail, settings
from agent.exits import EXIT_FAILED

alerts_app = typer.Typer(help="Alert sinks: send a sample, see the outbox.", no_args_is_help=True)


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
    root.out.print(f"sent a sample through {sink}: {result}", highlight=False)


@alerts_app.command("status")
def alerts_status() -> None:
    """The outbox by status (pending, sent, dead...)."""
    loaded = settings()
    with agent_for(loaded) as agent:
        counts = agent.store.outbox_counts()
    listed = ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
    root.out.print(listed or "the outbox is empty")


@alerts_app.command("send")
def alerts_send() -> None:
    """Deliver what the outbox holds now (the daemon does this after every cycle)."""
    loaded = settings()
    with agent_for(loaded) as agent:
        agent.deliver_alerts()
    root.out.print("delivered what could be delivered; see `partnerlink alerts status`")
