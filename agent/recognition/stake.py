"""What rides on a credit line, in its own unit: paid seats, monthly active users, or money in
one ISO 4217 currency. A stake never turns into a bare number: "no data" stays "no data" (never
0), and ranking sorts within one unit only, so dollars are never weighed against users.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from agent.recognition.model import SkuKind, SkuTable
from connectors.records.licences import SubscribedSku


class Unit(StrEnum):
    SEATS = "seats"
    USERS = "users"
    MONEY = "money"


@dataclass(frozen=True, slots=True)
class Stake:
    unit: Unit
    value: float | None
    """``None``: no data (not zero)."""
    currency: str | None = None
    """ISO 4217 code, for money only."""
    basis: str = ""
    """What was counted, in words: "paid seats of Exchange Online", "Azure revenue, last month"."""

    @classmethod
    def no_data(cls, unit: Unit, basis: str, currency: str | None = None) -> Stake:
        return cls(unit, None, currency, basis)

    @property
    def known(self) -> bool:
        return self.value is not None

    def __str__(self) -> str:
        if self.value is None:
            return "no data"
        if self.unit is Unit.MONEY:
            return f"{self.value:,.2f} {self.currency or '(currency unknown)'}"
        return f"{int(self.value):,} {self.unit.value}"

    @property
    def kind(self) -> tuple[Unit, str | None]:
        """Stakes are comparable only within one kind: the unit and, for money, the currency."""
        return (self.unit, self.currency if self.unit is Unit.MONEY else None)

    def as_dict(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "unit": self.unit.value,
            "currency": self.currency,
            "basis": self.basis,
            "text": str(self),
        }


UNIT_ORDER = {Unit.MONEY: 0, Unit.USERS: 1, Unit.SEATS: 2}
"""The documented order of unit groups: money (one group per currency), then monthly active
users, then paid seats."""


def rank_key(unit: str | None, currency: str | None, value: float | None) -> tuple[Any, ...]:
    """Where a stake sorts: a known stake before "no data", then by unit group, then the
    largest amount first within its group only (a dollar is never weighed against a user)."""
    order = next((v for k, v in UNIT_ORDER.items() if k.value == unit), len(UNIT_ORDER))
    return (value is None, order, currency or "", -(value or 0.0))


def ranked(stakes: Iterable[Stake]) -> dict[tuple[Unit, str | None], list[Stake]]:
    """Stakes grouped by kind, each group largest first with "no data" last."""
    groups: dict[tuple[Unit, str | None], list[Stake]] = defaultdict(list)
    for stake in stakes:
        groups[stake.kind].append(stake)
    return {
        kind: sorted(items, key=lambda s: (s.value is None, -(s.value or 0.0)))
        for kind, items in groups.items()
    }


@dataclass(frozen=True, slots=True)
class SeatCount:
    """Paid seats per workload, and the units left out with the reason."""

    per_workload: Mapping[str, int]
    excluded: Mapping[str, tuple[SkuKind, int]] = field(default_factory=dict)
    """Part number -> (kind, enabled units) of free, trial, viral, developer and capacity SKUs."""
    unknown: Mapping[str, int] = field(default_factory=dict)
    """Part number (or SKU id) -> enabled units of SKUs the table does not know: not counted."""
    paid_units: int = 0
    """Enabled units of every paid SKU together (a seat of a suite counts once)."""

    def seats(self, workload: str) -> int:
        return self.per_workload.get(workload, 0)


def paid_seats(skus: Iterable[SubscribedSku], table: SkuTable) -> SeatCount:
    """Seats per workload from paid SKUs only: a free Power Automate SKU with 10,000 units
    adds no seat anywhere."""
    per: dict[str, int] = defaultdict(int)
    excluded: dict[str, tuple[SkuKind, int]] = {}
    unknown: dict[str, int] = {}
    paid = 0
    for sku in skus:
        units = max(sku.enabled_units, 0)
        entry = table.find(sku.sku_part_number, sku.sku_id)
        name = sku.sku_part_number or sku.sku_id
        if entry is None:
            unknown[name] = unknown.get(name, 0) + units
        elif entry.kind is not SkuKind.PAID:
            kind, before = excluded.get(name, (entry.kind, 0))
            excluded[name] = (kind, before + units)
        else:
            paid += units
            for workload in entry.workloads:
                per[workload] += units
    return SeatCount(dict(per), excluded, unknown, paid)
