"""What a stand-in PSA keeps: tickets, each with its description, notes and status."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Ticket:
    id: int
    title: str
    description: str
    company: Any
    open: bool = True
    status: Any = None
    notes: list[str] = field(default_factory=list)
    fields: dict[str, Any] = field(default_factory=dict)

    @property
    def texts(self) -> list[str]:
        """Everything written on the ticket: its description, then its notes."""
        return [self.description, *self.notes]


@dataclass
class Book:
    next_id: int = 1001
    tickets: dict[int, Ticket] = field(default_factory=dict)

    def add(self, title: str, description: str, company: Any, **fields: Any) -> Ticket:
        ticket = Ticket(self.next_id, title, description, company, fields=fields)
        self.tickets[ticket.id] = ticket
        self.next_id += 1
        return ticket

    def opened(self) -> list[Ticket]:
        return [t for t in self.tickets.values() if t.open]
