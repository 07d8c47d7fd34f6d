"""How much of the estate the agent can read in full: customers, their Azure subscriptions and
their seats, each as "readable of total". The readiness check counts what it probed; every audit
counts what its run read (the figures on /metrics and in the report). A figure with nothing to
count (no Azure subscription known anywhere) is no figure, and never falls below the floor.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from connectors.records.customers import CspSubscription

FIGURES = ("customers", "azure_subscriptions", "seats")
_NAMES = {"customers": "customers", "azure_subscriptions": "Azure subscriptions", "seats": "seats"}


@dataclass(slots=True)
class ReadCoverage:
    customers: int = 0
    customers_readable: int = 0
    azure_subscriptions: int = 0
    azure_subscriptions_readable: int = 0
    seats: int = 0
    seats_readable: int = 0

    def add(
        self, *, readable: bool, subscriptions: int, readable_subscriptions: int, seats: int
    ) -> None:
        """One customer: fully readable or not, its known and readable subscriptions, seats."""
        self.customers += 1
        self.customers_readable += readable
        self.azure_subscriptions += subscriptions
        self.azure_subscriptions_readable += min(readable_subscriptions, subscriptions)
        self.seats += seats
        self.seats_readable += seats if readable else 0

    def counts(self, figure: str) -> tuple[int, int]:
        """(readable, total) of one of :data:`FIGURES`."""
        return getattr(self, f"{figure}_readable"), getattr(self, figure)

    def percent(self, figure: str) -> float | None:
        readable, total = self.counts(figure)
        return round(100.0 * readable / total, 1) if total else None

    def below(self, floor: float) -> list[str]:
        """The figures under ``floor`` percent."""
        return [f for f in FIGURES if (p := self.percent(f)) is not None and p < floor]

    def line(self) -> str:
        """The summary line: ``8 of 10 customers (80.0 %), ... fully readable``."""
        parts = []
        for figure in FIGURES:
            readable, total = self.counts(figure)
            percent = self.percent(figure)
            shown = f"{percent:.1f} %" if percent is not None else "none known"
            parts.append(f"{readable:,} of {total:,} {_NAMES[figure]} ({shown})")
        return "coverage: " + ", ".join(parts) + " fully readable"

    def as_dict(self) -> dict[str, Any]:
        return {
            figure: {
                "readable": self.counts(figure)[0],
                "total": self.counts(figure)[1],
                "percent": self.percent(figure),
            }
            for figure in FIGURES
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ReadCoverage:
        """The figures :meth:`as_dict` wrote (a run's stats)."""
        made = cls()
        for figure in FIGURES:
            counts = data.get(figure) or {}
            setattr(made, figure, int(counts.get("total") or 0))
            setattr(made, f"{figure}_readable", int(counts.get("readable") or 0))
        return made


def seats(subscriptions: Iterable[CspSubscription]) -> int:
    """Seats of the active licence-based CSP subscriptions: what a customer's Microsoft 365
    readability is worth."""
    total = 0
    for sub in subscriptions:
        if (sub.status or "active").lower() == "active" and sub.billing_type != "usage":
            total += sub.quantity or 0
    return total
