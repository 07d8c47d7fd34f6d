"""What the PSA sinks (ConnectWise PSA, Autotask, HaloPSA) share: a ticket per finding or per
customer, a note on a repeat instead of a new ticket, the ticket closed on resolve.

Every unit of a message (:mod:`agent.alerts.sinks.ticket_text`) goes through the same steps,
each safe to repeat, so a retry or a restart never opens a second ticket nor adds a note twice
(guarantee ticket-once):

- a repeat with a ticket the store keeps: a note on that ticket;
- otherwise an open ticket carrying the unit's marker, found by a search, gets the note;
  none found, a ticket is opened (so a ticket whose creation was answered but whose id was
  lost is found, not duplicated);
- a resolve: a note, then the ticket closed, in the status the config names; a customer's
  ticket closes only when no other finding kept under it is still open (``still_open``);
- before any note, the ticket's texts are read: one carrying this write's occasion tag
  means the note is there already.

The ticket ids go back to the dispatcher as the findings' external references, kept in the
store across restarts. A test message (``alerts test``) opens a ticket and closes it at once.
Writes to one ticket are serialised within the process (the dispatcher sends several messages
at once); agents on several hosts sharing one store may still race to open a customer's ticket.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

import httpx

from agent.alerts.message import Action, Message
from agent.alerts.sinks.base import Clock, DeliveryResult
from agent.alerts.sinks.ticket_config import TicketSinkBase
from agent.alerts.sinks.ticket_http import JsonApi, TicketGone
from agent.alerts.sinks.ticket_text import Document, Unit, document, title, units


class TicketApi(Protocol):
    """One PSA's ticket calls. Each raises a ``DeliveryError``; one naming a ticket raises
    ``TicketGone`` when the PSA answers that it has no such ticket."""

    async def find_open(self, marker: str) -> str | None:
        """The id of an open ticket whose title carries ``marker``, if any."""
        ...

    async def create(self, title: str, body: Document, unit: Unit, severity: str) -> str:
        """Open a ticket; its id."""
        ...

    async def texts(self, ticket: str) -> list[str]:
        """The ticket's description and its notes, as text."""
        ...

    async def add_note(self, ticket: str, body: Document) -> None: ...

    async def close(self, ticket: str) -> None: ...


class TicketSink:
    """The steps above over a PSA's :class:`TicketApi` (``self.api``, set by subclasses)."""

    kind = "tickets"
    api: TicketApi

    def __init__(
        self, config: TicketSinkBase, client: httpx.AsyncClient, *, clock: Clock, secrets: list[str]
    ) -> None:
        self.config = config
        self.client = client
        self.clock = clock
        self.secrets: tuple[str, ...] = tuple(s for s in secrets if s)
        self.http = JsonApi(client, clock=clock, secrets=self.secrets, what=self.kind)
        self._busy: dict[str, asyncio.Lock] = {}
        """One lock per ticket marker: two messages about one customer, sent at once by the
        dispatcher, must not both find no ticket and both open one."""

    @property
    def name(self) -> str:
        return self.config.name

    async def send(self, message: Message) -> DeliveryResult:
        if message.test:
            return await self._probe(message)
        kept: dict[str, str] = {}
        done: list[str] = []
        for unit in units(message, self.config.group_by):
            async with self._busy.setdefault(unit.marker, asyncio.Lock()):
                what, ticket = await self._unit(message, unit)
            done.append(what if ticket is None else f"{what} {ticket}")
            if ticket is not None:
                kept.update(dict.fromkeys(unit.fingerprints, ticket))
        return DeliveryResult(200, "; ".join(done), references=kept)

    async def _unit(self, message: Message, unit: Unit) -> tuple[str, str | None]:
        known = unit.known(message.references)
        if message.resolved:
            return await self._resolve(message, unit, known)
        body = document(message, unit, opening=False)
        if message.action is Action.REPEAT and known and await self._note(known, body):
            return "noted on", known
        found = await self.api.find_open(unit.marker)
        if found is not None and await self._note(found, body):
            return "noted on", found
        opened = await self.api.create(
            title(message, unit), document(message, unit, opening=True), unit, message.severity
        )
        return "opened", opened

    async def _resolve(
        self, message: Message, unit: Unit, known: str | None
    ) -> tuple[str, str | None]:
        ticket = known or await self.api.find_open(unit.marker)
        if ticket is None:
            return "no ticket to close", None
        if not await self._note(ticket, document(message, unit, opening=False)):
            return "ticket gone", None
        shared = message.still_open.get(ticket, 0)
        if unit.per_customer and (known is None or shared):
            return f"noted ({shared} other finding(s) still open) on", ticket
        try:
            await self.api.close(ticket)
        except TicketGone:
            return "ticket gone", None
        return "closed", ticket

    async def _note(self, ticket: str, body: Document) -> bool:
        """Add ``body`` to ``ticket`` unless it is there already; ``False`` if the ticket is
        gone."""
        try:
            if any(body.tag in text for text in await self.api.texts(ticket)):
                return True
            await self.api.add_note(ticket, body)
        except TicketGone:
            return False
        return True

    async def _probe(self, message: Message) -> DeliveryResult:
        """``alerts test``: open a ticket and close it, proving both work."""
        unit = units(message, "finding")[0]
        ticket = await self.api.create(
            title(message, unit), document(message, unit, opening=True), unit, message.severity
        )
        await self.api.close(ticket)
        return DeliveryResult(200, f"opened and closed test ticket {ticket}")

    async def aclose(self) -> None:
        await self.client.aclose()
