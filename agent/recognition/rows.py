"""One row of the credit view (a credit line of one customer, with the customer's name for
people) and the view's order (see ``agent.recognition.view``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agent.recognition.credit import METRIC_NAMES, CreditLine
from agent.recognition.model import AREA_NAMES
from agent.recognition.stake import rank_key as stake_rank

_COUNTS_ORDER = {False: 0, None: 1, True: 2}


@dataclass(frozen=True, slots=True)
class CreditRow:
    """One credit line of one customer, with the customer's name for people."""

    customer_tenant_id: str
    customer_name: str
    line: CreditLine

    @property
    def holder_text(self) -> str:
        holder = self.line.holder
        if holder is None:
            return "-"
        return f"{holder.kind.upper()} · {holder.whose.value} · {holder.holder}"

    @property
    def counts_text(self) -> str:
        return {True: "yes", False: "no", None: "cannot verify"}[self.line.counts_for_us]

    def as_dict(self) -> dict[str, Any]:
        line, stake = self.line, self.line.stake
        holder, remedy = line.holder, line.remedy
        return {
            "customer_tenant_id": self.customer_tenant_id,
            "customer_name": self.customer_name,
            "solution_area": line.solution_area,
            "solution_area_name": AREA_NAMES[line.solution_area],
            "metric": line.metric,
            "metric_name": METRIC_NAMES[line.metric],
            "track": line.track,
            "rule_id": line.rule_id,
            "holder_kind": holder.kind.value if holder else None,
            "holder": holder.holder if holder else None,
            "whose": holder.whose.value if holder else None,
            "counts_for_us": line.counts_for_us,
            "reason": line.reason.value,
            "words": line.words,
            "stake": str(stake),
            "stake_value": stake.value,
            "stake_unit": stake.unit.value,
            "stake_currency": stake.currency,
            "stake_basis": stake.basis,
            "remedy": remedy.words if remedy else None,
            "remedy_kind": remedy.kind.value if remedy else None,
            "unchecked": list(line.unchecked),
            "sources": list(line.sources),
        }


def rank_key(row: CreditRow) -> tuple[Any, ...]:
    """The view's order (see the module's docstring)."""
    line, stake = row.line, row.line.stake
    return (
        _COUNTS_ORDER[line.counts_for_us],
        *stake_rank(stake.unit.value, stake.currency, stake.value),
        row.customer_name.lower(),
        line.solution_area,
        line.metric,
        line.track,
    )
