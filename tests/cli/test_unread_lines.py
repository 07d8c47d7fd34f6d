"""What a sync could not read, as the sync command prints it: one line per cause, the cause
before the sources and tenants, so a narrow terminal cuts the list and never the cause."""

from __future__ import annotations

from types import SimpleNamespace

from rich.console import Console

from agent.names import Names
from agent.present import print_unread

C1 = "c1000000-0000-4000-8000-000000000001"
C2 = "c2000000-0000-4000-8000-000000000002"
NO_SP = "token ... refused: invalid_client (missing service principal) [AADSTS7000229] cid 1"


def _failed(source: str, scope: str, error: str) -> SimpleNamespace:
    return SimpleNamespace(source=source, scope=scope, error=error)


def test_one_line_per_cause_naming_its_sources_and_tenants() -> None:
    console = Console(record=True, width=400)
    print_unread(
        [
            _failed("graph.subscribed_skus", C1, NO_SP),
            _failed("arm.subscriptions", C2, NO_SP),
            _failed("arm.pal", f"{C2}/ops", "arm.pal for x failed (HTTP 403, AuthorizationFailed)"),
        ],
        console,
        Names(customers={C1: "Alpine Dairy", C2: "Birch Logistics"}),
    )
    lines = console.export_text().splitlines()
    assert lines == [
        "  consent missing (AADSTS7000229): cannot verify arm, graph for Alpine Dairy, Birch "
        "Logistics",
        "  no azure role (HTTP 403 AuthorizationFailed): cannot verify pal as ops for Birch "
        "Logistics",
    ]


def test_a_narrow_terminal_keeps_the_cause() -> None:
    console = Console(record=True, width=60)
    print_unread([_failed("graph.subscribed_skus", C1, "x " * 300 + NO_SP)], console, Names())
    assert console.export_text().startswith("  consent missing (AADSTS7000229): cannot verify")
