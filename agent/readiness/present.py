"""How a readiness check looks: on a terminal, the partner tenant's readers, every customer line
that is not simply readable (why, and the step that fixes it), the causes by how many customers
they hold back, and the coverage line; or the whole check as JSON. Names from Microsoft pass
through ``agent.escape``; the cause always comes before the detail."""

from __future__ import annotations

import json
from collections import defaultdict

from rich.console import Console
from rich.table import Table

from agent.escape import for_terminal
from agent.readiness.model import Check, Readiness, State

_STYLE = {State.READABLE: "green", State.WARNING: "yellow", State.PARTIAL: "yellow"}
_FIGURE_NAMES = {"customers": "customers", "azure_subscriptions": "Azure subscriptions"}


def why(check: Check) -> str:
    """The cause first, then what it means, the raw code and what it is about."""
    if check.cause is None and not check.code:
        return check.words
    label = f"{check.cause.label}: " if check.cause else ""
    text = f"{label}{check.words}" + (f" ({check.code})" if check.code else "")
    return text + (f" [{', '.join(check.subjects)}]" if check.subjects else "")


def print_readiness(readiness: Readiness, console: Console) -> None:
    partner = Table(title="partner tenant")
    for column in ("reader", "state", "why", "what to do"):
        partner.add_column(column, overflow="fold")
    for check in readiness.partner:
        _row(partner, [], check)
    console.print(partner)
    lines = [(c.name, check) for c in readiness.customers for check in c.checks]
    shown = [(name, check) for name, check in lines if check.state is not State.READABLE]
    held = [c for c in readiness.customers if not c.readable]
    if shown:
        table = Table(
            title=f"customers not fully readable: {len(held)} of {len(readiness.customers)}"
        )
        for column in ("customer", "reader", "state", "why", "what to do"):
            table.add_column(column, overflow="fold")
        for name, check in shown:
            _row(table, [name], check)
        console.print(table)
    for line in cause_lines(readiness):
        console.print(for_terminal(line, "yellow"))
    console.print(readiness.coverage.line(), highlight=False)
    console.print(verdict(readiness), highlight=False)


def _row(table: Table, first: list[str], check: Check) -> None:
    table.add_row(
        *(for_terminal(cell) for cell in first),
        for_terminal(check.reader),
        for_terminal(check.state.value, _STYLE.get(check.state, "bold red")),
        for_terminal(why(check)),  # Microsoft's words: shown, never parsed as markup
        for_terminal(check.fix),
    )


def cause_lines(readiness: Readiness) -> list[str]:
    """One line per cause, the cause holding back most customers first."""
    by_cause: dict[str, set[str]] = defaultdict(set)
    for customer in readiness.customers:
        for check in customer.checks:
            if check.cause is not None and check.state is not State.READABLE:
                by_cause[check.cause.label].add(customer.name)
    ranked = sorted(by_cause.items(), key=lambda item: (-len(item[1]), item[0]))
    lines = []
    for label, names in ranked:
        listed = ", ".join(sorted(names)[:5]) + (
            f" and {len(names) - 5} more" if len(names) > 5 else ""
        )
        lines.append(f"{label}: {len(names)} customer(s): {listed}")
    return lines


def verdict(readiness: Readiness) -> str:
    if not readiness.listed:
        return "the customers could not be listed: see partner_center above"
    below = readiness.below_floor()
    if below:
        names = ", ".join(_FIGURE_NAMES.get(f, f) for f in below)
        return f"below the floor of {readiness.floor:g} %: {names}"
    if not readiness.partner_readable:
        return "the partner tenant is not fully readable: see above"
    return f"at or above the floor of {readiness.floor:g} %"


def to_json(readiness: Readiness) -> str:
    return json.dumps(readiness.as_dict(), indent=2) + "\n"
