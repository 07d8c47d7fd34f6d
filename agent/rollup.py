"""Who loses what: one line per customer with what is at stake there in each unit (money per
currency, users, seats — never added to one another: ``agent.stakes``), its open findings by
severity, those someone already looks after, the credit lines lost to us, the gaps in the
matrix, and its owner from the managed-customers file. Sorted by stake, money first."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from agent.matrix import MatrixRow
from agent.names import Names
from agent.recognition.view import CreditRow
from agent.stakes import StakeSum

SEVERITIES = ("critical", "high", "medium", "low", "info")
AT_STAKE = frozenset({"open", "acknowledged", "snoozed"})
"""Findings whose stake counts: confirmed, whether or not someone looks after them yet."""
LOOKED_AFTER = frozenset({"acknowledged", "snoozed"})


@dataclass(slots=True)
class CustomerRollup:
    tenant_id: str
    name: str
    owner: str = ""
    open: Counter[str] = field(default_factory=Counter)
    """Open (and pending) findings by severity."""
    looked_after: int = 0
    lost_lines: int = 0
    gaps: int = 0
    stake: StakeSum = field(default_factory=StakeSum)

    @property
    def worst(self) -> str | None:
        return next((s for s in SEVERITIES if self.open.get(s)), None)

    def as_dict(self) -> dict[str, Any]:
        figures = self.stake.figures()
        return {
            "customer_tenant_id": self.tenant_id,
            "customer_name": self.name,
            "owner": self.owner,
            "open_findings": dict(self.open),
            "looked_after": self.looked_after,
            "credit_lines_lost": self.lost_lines,
            "gaps": self.gaps,
            "stake": [
                {"unit": unit.value, "currency": currency, "value": value}
                for (unit, currency), value in figures.items()
            ],
        }


def rollup(
    findings: Iterable[Mapping[str, Any]],
    recognition: Iterable[CreditRow],
    matrix: Iterable[MatrixRow],
    *,
    owners: Mapping[str, str],
    names: Names,
) -> list[CustomerRollup]:
    """Every customer the findings, the credit view, the matrix or the managed-customers file
    name, the largest stake first (money, then users, then seats), then by name."""
    customers: dict[str, CustomerRollup] = {}

    def of(tenant: str, name: str | None = None) -> CustomerRollup:
        key = tenant.lower()
        if key not in customers:
            customers[key] = CustomerRollup(key, names.customer(key, name), owners.get(key, ""))
        return customers[key]

    for f in findings:
        tenant = f.get("customer_tenant_id")
        if not tenant:
            continue
        entry = of(tenant, f.get("customer_name"))
        if f["status"] in LOOKED_AFTER:
            entry.looked_after += 1
        elif f["status"] in ("open", "pending"):
            entry.open[f["severity"]] += 1
        if f["status"] in AT_STAKE:
            entry.stake.add_evidence(f.get("evidence") or {})
    for row in recognition:
        if row.line.counts_for_us is False:
            entry = of(row.customer_tenant_id, row.customer_name)
            entry.lost_lines += 1
            entry.stake.add(row.line.stake)
    for r in matrix:
        entry = of(r.customer_tenant_id, r.customer_name)
        entry.gaps += r.gap
    for tenant in owners:
        of(tenant)
    return sorted(customers.values(), key=lambda c: (*c.stake.sort_key(), c.name.lower()))
