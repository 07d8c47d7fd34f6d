"""What the report shows, as one value: the runs' coverage history, the matrix, the findings,
the credit view's lines and the per-customer roll-up (who loses what), with the names the page
shows instead of GUIDs. ``agent.report.collect`` fills it; the JSON form is ``as_dict``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from agent.matrix import MatrixRow
from agent.names import Names
from agent.readiness.coverage import ReadCoverage
from agent.recognition.view import CreditRow
from agent.rollup import CustomerRollup
from agent.stakes import StakeSum


@dataclass(slots=True)
class ReportData:
    generated: str
    partner: str
    history: list[dict[str, Any]]
    matrix: list[MatrixRow]
    findings: list[dict[str, Any]]
    finding_stakes: list[StakeSum] = field(default_factory=list)
    """What is at stake in each finding, in the order of ``findings`` (worked out once: the
    order and the page read it); empty: worked out where needed."""
    recognition: list[CreditRow] = field(default_factory=list)
    """The credit view's lines (agent.recognition.view): every line, or only those lost to us
    where the page alone is wanted (it shows no other)."""
    customers: list[CustomerRollup] = field(default_factory=list)
    """Who loses what: one line per customer, the largest stake first (agent.rollup)."""
    names: Names = field(default_factory=Names)
    readable: ReadCoverage | None = None
    """How much of the estate the newest audited run read in full."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "generated": self.generated,
            "partner": self.partner,
            "history": self.history,
            "customers": [c.as_dict() for c in self.customers],
            "matrix": [r.as_dict() for r in self.matrix],
            "findings": self.findings,
            "recognition": [r.as_dict() for r in self.recognition],
            "readable": self.readable.as_dict() if self.readable else None,
        }
