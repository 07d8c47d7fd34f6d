"""Link present but earning nothing: an association of ours is there, and the credit view says
it counts for nothing, because the metric does not count its type (our CSP on a Modern Work
enterprise tenant, our CSP on Power Platform usage, which counts PAL only) or because the
tenant is under a threshold and not close to it (a tenant with none of the workload at all is
not "under" it: nothing of the workload is there to earn).

One finding per association of ours and cause, listing the solution areas and metrics it
earns nothing in. The other causes of the same kind are their own rules, one finding each:
a link that names the wrong partner ID is ``wrong_partner_id``; a tenant close to a threshold
is ``recognition_near_threshold``; where the managed-customers file expects the association
that would count, its absence is ``link_missing``'s.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from agent.audit.context import AuditContext
from agent.audit.credit_lines import credit_lines
from agent.audit.model import Candidate, Rule, RuleMeta, Severity
from agent.audit.rules.recognition_near_threshold import near
from agent.audit.snapshot import CustomerSnapshot
from agent.recognition.credit import CreditLine, Reason
from agent.recognition.holdings import Whose
from agent.recognition.model import AREA_NAMES

META = RuleMeta(
    id="recognition_not_earning",
    title="Link present but earning nothing",
    severity=Severity.MEDIUM,
    rationale="An association the program does not count for a metric, or a tenant under its "
    "threshold, earns no recognition however well the link is kept: the partner learns it "
    "from the designation score months later unless it is told now.",
    remediation="Establish the association the metric counts (named in the finding), or grow "
    "the customer past the threshold.",
)

_CAUSES = {
    Reason.TYPE_NOT_ELIGIBLE: "does not count",
    Reason.BELOW_THRESHOLD: "is under the threshold",
}
_METRIC_ORDER = {"net_customer_adds": 0, "usage_growth": 1, "deployments": 2}


def evaluate(snapshot: CustomerSnapshot, ctx: AuditContext) -> Iterator[Candidate]:
    expected = {(e.workload.split(":", 1)[0], e.kind.value) for e in snapshot.expectations}
    groups: dict[tuple[Reason, str, str], list[CreditLine]] = defaultdict(list)
    for line in credit_lines(snapshot, ctx):
        holder = line.holder
        if line.reason not in _CAUSES or holder is None or holder.whose is not Whose.OURS:
            continue
        if line.remedy is not None and any(
            (family, line.remedy.kind.value) in expected
            for family in ctx.rulebook.rule(line.rule_id).families
        ):
            continue  # the link that would count is expected: link_missing names it
        if line.reason is Reason.BELOW_THRESHOLD and (near(line) or _none_there(line)):
            continue  # close: recognition_near_threshold's finding; none of it: no workload
        groups[(line.reason, holder.kind.value, holder.holder)].append(line)
    for (reason, kind, who), lines in sorted(groups.items()):
        lines.sort(key=lambda x: (x.solution_area, _METRIC_ORDER.get(x.metric, 9), x.track))
        yield _candidate(snapshot, reason, kind, who, lines)


def _none_there(line: CreditLine) -> bool:
    """Not a single paid seat (or dollar) of the rule's workloads: the workload is not there to
    earn anything, whatever a report's row says."""
    return line.shortfall is None or line.shortfall.figure <= 0


def _candidate(
    snapshot: CustomerSnapshot, reason: Reason, kind: str, holder: str, lines: list[CreditLine]
) -> Candidate:
    first = min(lines, key=lambda x: _METRIC_ORDER.get(x.metric, 9))
    assert first.holder is not None
    areas = ", ".join(sorted({AREA_NAMES[x.solution_area] for x in lines}))
    titles = sorted({x.title for x in lines})
    return Candidate(
        rule=META.id,
        customer_tenant_id=snapshot.tenant_id,
        subject=f"{kind} {holder} {_CAUSES[reason]}",
        title=f"Our {kind.upper()} at {snapshot.name} earns nothing in {areas}: "
        f"{_why(reason, first)}",
        link_kind=kind,
        link_id=f"{reason.value}|{kind}|{holder}",
        severity=Severity.MEDIUM if reason is Reason.TYPE_NOT_ELIGIBLE else Severity.LOW,
        remediation=_remedy(snapshot.name, reason, first),
        evidence={
            "cause": reason.value,
            "association": kind,
            "holder": holder,
            "held_by": first.holder.evidence,
            "why": first.words,
            "recognition_rule": first.rule_id,
            "recognition_rules": sorted({x.rule_id for x in lines}),
            "credit_lines": titles,
            "would_count": first.remedy.kind.value if first.remedy else None,
        },
        stake=first.stake,
    )


def _why(reason: Reason, line: CreditLine) -> str:
    if reason is Reason.TYPE_NOT_ELIGIBLE:
        counted = line.words.split("which counts ", 1)[-1].split(":", 1)[0]
        kind = line.holder.kind.upper() if line.holder else "it"
        return f"{line.title} counts {counted}, not {kind}"
    return line.words.removeprefix("the tenant is under the threshold: ")


def _remedy(customer: str, reason: Reason, line: CreditLine) -> str:
    if reason is Reason.TYPE_NOT_ELIGIBLE and line.remedy is not None:
        return (
            f"{line.words[:1].upper()}{line.words[1:]}. To earn it at {customer}, "
            f"{line.remedy.words}: {line.title} counts that association."
        )
    if reason is Reason.BELOW_THRESHOLD and line.shortfall is not None:
        short = line.shortfall
        return (
            f"{customer} is under the threshold ({line.words.split(': ', 1)[-1]}). Our "
            f"{line.holder.kind.upper() if line.holder else 'association'} counts for "
            f"{line.title} once the customer reaches {short.threshold.text}; nothing else "
            "to change on the link."
        )
    return META.remediation


RULE = Rule(META, evaluate)
