"""Close to a recognition threshold: an association of ours that the metric counts, on a tenant
just under the metric's floor (a Modern Work tenant at 9 paid seats where more than 10 count;
an Azure customer at $900 where $1,000 counts). A small step earns the credit.

"Close" is a shortfall of at most a quarter of the threshold (``NEAR_SHARE``): 9 or 10 seats
for "more than 10", $750 or more for "$1,000", 30 % or more for "40 %". Further under, the
tenant is ``recognition_not_earning``'s (one cause, one finding).
"""

from __future__ import annotations

from collections.abc import Iterator

from agent.audit.context import AuditContext
from agent.audit.credit_lines import credit_lines
from agent.audit.model import Candidate, Rule, RuleMeta, Severity
from agent.audit.snapshot import CustomerSnapshot
from agent.recognition.credit import CreditLine, Reason
from agent.recognition.holdings import Whose
from agent.recognition.model import AREA_NAMES

META = RuleMeta(
    id="recognition_near_threshold",
    title="Close to a recognition threshold",
    severity=Severity.LOW,
    rationale="A customer just under a threshold earns nothing for the association the partner "
    "already holds; a few seats, users or dollars more and it counts.",
    remediation="Help the customer past the threshold named in the finding: the association "
    "already held then counts.",
)

NEAR_SHARE = 0.25
"""A shortfall of at most this share of the threshold's value is close."""

_UNITS = {"seats": "paid seat(s)", "users": "user(s)", "percent": "percentage point(s)"}


def near(line: CreditLine) -> bool:
    """Whether a line under a floor is close to it (see the module's docstring)."""
    short = line.shortfall
    if line.reason is not Reason.BELOW_THRESHOLD or short is None:
        return False
    return 0 < short.missing <= NEAR_SHARE * short.threshold.value


def evaluate(snapshot: CustomerSnapshot, ctx: AuditContext) -> Iterator[Candidate]:
    by_rule: dict[str, list[CreditLine]] = {}
    for line in credit_lines(snapshot, ctx):
        holder = line.holder
        if holder is None or holder.whose is not Whose.OURS or not near(line):
            continue
        by_rule.setdefault(line.rule_id, []).append(line)
    for rule_id, lines in sorted(by_rule.items()):
        yield _candidate(snapshot, rule_id, lines)


def _missing(line: CreditLine) -> str:
    assert line.shortfall is not None
    short = line.shortfall
    unit = short.threshold.unit
    if unit == "USD":
        return f"{short.missing:,.2f} USD"
    amount = f"{short.missing:,.0f}" if short.missing == int(short.missing) else f"{short.missing}"
    return f"{amount} {_UNITS.get(unit, unit)}"


def _candidate(snapshot: CustomerSnapshot, rule_id: str, lines: list[CreditLine]) -> Candidate:
    first = lines[0]
    assert first.holder is not None
    assert first.shortfall is not None
    areas = ", ".join(sorted({AREA_NAMES[x.solution_area] for x in lines}))
    figure = first.words.split(": ", 1)[-1].split(";", 1)[0]
    missing = _missing(first)
    kind = first.holder.kind.upper()
    return Candidate(
        rule=META.id,
        customer_tenant_id=snapshot.tenant_id,
        subject=f"{rule_id} short by {first.shortfall.threshold.measure}",
        title=f"{snapshot.name} is {missing} short of {first.title}"
        + (f" in {areas}" if len(lines) > 1 else "")
        + f" ({figure}; {first.shortfall.threshold.text} count)",
        link_kind=first.holder.kind.value,
        link_id=rule_id,
        remediation=f"{missing[:1].upper()}{missing[1:]} more and our {kind} counts: "
        f"{first.holder.evidence}. {first.title} counts {kind} once the customer reaches "
        f"{first.shortfall.threshold.text}.",
        evidence={
            "recognition_rule": rule_id,
            "solution_areas": sorted({x.solution_area for x in lines}),
            "figure": first.shortfall.figure,
            "threshold": first.shortfall.threshold.text,
            "missing": first.shortfall.missing,
            "unit": first.shortfall.threshold.unit,
            "association": first.holder.kind.value,
            "held_by": first.holder.evidence,
            "would_count": first.holder.kind.value,
        },
        stake=first.stake,
    )


RULE = Rule(META, evaluate)
