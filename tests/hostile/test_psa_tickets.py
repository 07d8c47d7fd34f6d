"""The hostile names through the three PSA ticket sinks, each against its stand-in: every
ticket title, description and note is inert in its format (plain text for ConnectWise PSA and
Autotask, HTML for HaloPSA). First the raw names, nothing cleaned on the way (each sink's
escaping alone), one ticket per finding and one per customer; then the findings the hostile
estate's audit raised."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest

from agent.alerts import AlertsConfig, build_sinks
from agent.alerts.grouping import group_messages
from agent.alerts.message import Action, AlertItem, Message
from tests.alerts.psa.book import Ticket
from tests.alerts.psa.run import STANDINS
from tests.alerts.psa.server import transport
from tests.hostile import inert
from tests.hostile.conftest import Estate
from tests.hostile.names import HOSTILE
from tests.hostile.test_sinks import raw_messages

NOW = datetime(2026, 11, 2, 3, 0, tzinfo=UTC)


def through(kind: str, messages: list[Message], **extra: Any) -> list[Ticket]:
    """Send ``messages`` through the ``kind`` sink to its stand-in; its tickets afterwards."""
    with STANDINS[kind]() as psa:
        config = AlertsConfig.model_validate({"sinks": [psa.sink(**extra)]})

        async def send() -> None:
            async with build_sinks(config, clock=lambda: NOW, transport=transport()) as sinks:
                for message in messages:
                    await sinks[kind].send(message)  # raises on any refusal: nothing is lost

        asyncio.run(send())
        return list(psa.book.tickets.values())


def check(kind: str, tickets: list[Ticket]) -> None:
    for ticket in tickets:
        where = f"{kind} ticket {ticket.id}"
        inert.psa_title(ticket.title, f"{where} title")
        for text in ticket.texts:
            if kind == "halopsa":
                inert.psa_html(text, where)
            else:
                inert.psa_plain(text, where)


@pytest.mark.parametrize("kind", sorted(STANDINS))
@pytest.mark.parametrize("group_by", ["finding", "customer"])
def test_raw_hostile_names_are_inert_in_every_psa_ticket(kind: str, group_by: str) -> None:
    tickets = through(kind, raw_messages(), group_by=group_by)
    assert len(tickets) == len(HOSTILE), "one ticket per finding, and per customer alike"
    assert all(len(t.texts) == 2 for t in tickets), "the group message noted each ticket"
    check(kind, tickets)
    shown = " ".join(t.title for t in tickets)
    assert "\u2039script\u203aalert(1)\u2039/script\u203a" in shown, "shown, not run"


@pytest.mark.parametrize("kind", sorted(STANDINS))
def test_the_hostile_estates_findings_are_inert_in_every_psa_ticket(
    estate: Estate, kind: str
) -> None:
    items = [
        AlertItem(
            fingerprint=f.fingerprint,
            rule=f.rule,
            severity=str(f.severity),
            status=str(f.status),
            title=f.title,
            subject=f.subject,
            customer_tenant_id=f.customer_tenant_id,
            customer_name=f.customer_name,
            link_kind=f.link_kind,
            remediation=f.remediation,
            first_seen=f.first_seen,
        )
        for f in estate.findings
    ]
    messages = group_messages(
        [(item, Action.FIRST) for item in items], max_items=len(items), run_id=1, now=NOW
    )
    tickets = through(kind, messages)
    assert len(tickets) == len(estate.findings)
    check(kind, tickets)
