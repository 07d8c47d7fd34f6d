"""What is at stake in a finding, or in a group of findings and credit lines, in its own units
(``agent.recognition.stake``): money per currency, active users, paid seats. Units are never
added to one another, so a customer's stake is one figure per unit, never one number.

Within one unit, figures for the same people or the same money are not added twice: users and
seats are one tenant's population, so a group takes the largest figure; money is per Azure
subscription (the finding's workload), so a group adds each subscription's figure once and
keeps a tenant-wide figure when that is larger."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from agent.recognition.stake import Stake, Unit

_KEYED = {"acr_usd": (Unit.MONEY, "USD"), "mau": (Unit.USERS, None), "seats": (Unit.SEATS, None)}
Kind = tuple[Unit, str | None]
UNIT_ORDER = {Unit.MONEY: 0, Unit.USERS: 1, Unit.SEATS: 2}
_NUMBER = (int, float)


def finding_stakes(evidence: Mapping[str, Any]) -> list[Stake]:
    """The stakes a finding's evidence names: the typed stake the audit keeps with a finding
    (``at_stake``: ``{"unit", "value", "currency", "basis"}``), else the link rules'
    ``stake`` (``{"acr_usd", "mau", "seats"}``, or a typed one)."""
    stake = evidence.get("at_stake") or evidence.get("stake")
    if not isinstance(stake, Mapping):
        return []
    if "unit" in stake:
        try:
            unit = Unit(stake["unit"])
        except ValueError:
            return []
        value = stake.get("value")
        number = float(value) if isinstance(value, _NUMBER) else None
        return [Stake(unit, number, stake.get("currency"), str(stake.get("basis") or ""))]
    out = []
    for key, (unit, currency) in _KEYED.items():
        value = stake.get(key)
        if isinstance(value, _NUMBER) and value:
            out.append(Stake(unit, float(value), currency))
    return out


@dataclass(slots=True)
class StakeSum:
    """One customer's (or one group's) stake, a figure per unit kind."""

    per_subscription: dict[Kind, dict[str, float]] = field(default_factory=dict)
    largest: dict[Kind, float] = field(default_factory=dict)
    no_data: set[Kind] = field(default_factory=set)
    _figures: dict[Kind, float | None] | None = field(default=None, repr=False, compare=False)
    """``figures()`` as last worked out; forgotten on ``add`` (a page asks it several times
    for each of 20,000 customers)."""

    def add(self, stake: Stake, workload: str | None = None) -> None:
        self._figures = None
        money = stake.unit is Unit.MONEY
        kind = (stake.unit, stake.currency if money else None)
        if stake.value is None:
            self.no_data.add(kind)
            return
        if money and workload and workload.startswith("azure:"):
            subs = self.per_subscription.setdefault(kind, {})
            subs[workload] = max(subs.get(workload, 0.0), stake.value)
        else:
            self.largest[kind] = max(self.largest.get(kind, 0.0), stake.value)

    def add_evidence(self, evidence: Mapping[str, Any]) -> None:
        workload = evidence.get("workload")
        for stake in finding_stakes(evidence):
            self.add(stake, workload if isinstance(workload, str) else None)

    def figures(self) -> dict[Kind, float | None]:
        """Each unit kind's figure (``None``: no data), money first, then users, then seats."""
        if self._figures is None:
            self._figures = self._worked_out()
        return dict(self._figures)

    def _worked_out(self) -> dict[Kind, float | None]:
        kinds = set(self.per_subscription) | set(self.largest) | self.no_data
        out: dict[Kind, float | None] = {}
        for kind in sorted(kinds, key=lambda k: (UNIT_ORDER[k[0]], k[1] or "")):
            total = sum(self.per_subscription.get(kind, {}).values())
            known = kind in self.per_subscription or kind in self.largest
            out[kind] = max(total, self.largest.get(kind, 0.0)) if known else None
        return out

    def value(self, unit: Unit, currency: str | None = None) -> float | None:
        kind = (unit, currency if unit is Unit.MONEY else None)
        return self.figures().get(kind)

    def sort_key(self) -> tuple[float, float, float]:
        """Larger stakes first, money before users before seats; units never added."""
        figures = self.figures()
        money = sum(v or 0.0 for (u, _c), v in figures.items() if u is Unit.MONEY)
        users = figures.get((Unit.USERS, None)) or 0.0
        return (-money, -users, -(figures.get((Unit.SEATS, None)) or 0.0))

    def lines(self) -> list[str]:
        """``21,000 USD``, ``201 users``, ``220 seats``: one line per unit kind."""
        return [amount(kind, value) for kind, value in self.figures().items()]


def amount(kind: Kind, value: float | None) -> str:
    unit, currency = kind
    if value is None:
        return f"no data ({unit.value})"
    if unit is Unit.MONEY:
        return f"{value:,.0f} {currency or '(currency unknown)'}"
    return f"{int(value):,} {unit.value}"


def summed(items: Iterable[Mapping[str, Any]]) -> StakeSum:
    """The stake of several findings (their evidence)."""
    total = StakeSum()
    for evidence in items:
        total.add_evidence(evidence)
    return total
