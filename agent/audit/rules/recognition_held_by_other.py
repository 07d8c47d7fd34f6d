"""Recognition held by another partner: the customer's licences for a workload we deliver were
bought through another partner's tenant, so that partner transacts them and earns the credit.

Seen from the licence owner alone (``ownerTenantId`` on the customer's directory subscriptions),
without any insight report; the credit view (agent.recognition) judges each metric, and the
remedy names the association the rulebook would count for us.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from agent.audit.context import AuditContext
from agent.audit.credit_lines import credit_lines
from agent.audit.model import Candidate, Rule, RuleMeta, Severity
from agent.audit.snapshot import CustomerSnapshot
from agent.recognition.credit import CreditLine, Reason
from agent.recognition.model import AREA_NAMES
from connectors.records.links import LinkKind
from connectors.records.scope import Source

META = RuleMeta(
    id="recognition_held_by_other",
    title="Recognition held by another partner",
    severity=Severity.HIGH,
    rationale="Licences bought through another partner's tenant make that partner the "
    "transacting partner: the recognition for a workload this partner delivers goes to it.",
    remediation="Agree with the customer who delivers the workload, then establish the "
    "association the program counts for you (a CPOR claim, the partner of record, or the "
    "licences moved to your CSP).",
    required_sources=(Source.GRAPH_DIRECTORY_SUBSCRIPTIONS,),
)

FAMILIES = {"m365": "Microsoft 365", "business_apps": "Dynamics 365", "security": "Security"}
"""Workloads of the managed-customers file that licences carry, by rulebook family."""
_METRIC_ORDER = {"net_customer_adds": 0, "usage_growth": 1, "deployments": 2}


def delivered(snapshot: CustomerSnapshot) -> dict[str, set[str]]:
    """Family -> the link kinds the managed-customers file expects there (workloads licences
    carry only)."""
    out: dict[str, set[str]] = defaultdict(set)
    for expectation in snapshot.expectations:
        if expectation.workload in FAMILIES:
            out[expectation.workload].add(expectation.kind.value)
    return out


def held_elsewhere(
    snapshot: CustomerSnapshot, ctx: AuditContext
) -> dict[tuple[str, str], list[CreditLine]]:
    """(family, licence owner) -> the credit lines another partner's licences hold, for the
    workloads we deliver; empty where the directory subscriptions were not read. A CPOR or
    DPOR expected there and missing is this finding's gap, not a second one (link_missing)."""
    families = delivered(snapshot)
    if not families or not snapshot.complete(Source.GRAPH_DIRECTORY_SUBSCRIPTIONS):
        return {}
    held: dict[tuple[str, str], list[CreditLine]] = defaultdict(list)
    for line in credit_lines(snapshot, ctx):
        holder = line.holder
        if line.reason is not Reason.OTHER_TRANSACTING_PARTNER or holder is None:
            continue
        if holder.source is not Source.GRAPH_DIRECTORY_SUBSCRIPTIONS:
            continue  # a tier-2 reseller of ours is the indirect-reseller rules' business
        for family in sorted(ctx.rulebook.rule(line.rule_id).families & families.keys()):
            held[(family, holder.holder)].append(line)
    return held


def evaluate(snapshot: CustomerSnapshot, ctx: AuditContext) -> Iterator[Candidate]:
    expected = delivered(snapshot)
    for (family, owner), lines in sorted(held_elsewhere(snapshot, ctx).items()):
        lines.sort(key=lambda x: (_METRIC_ORDER.get(x.metric, 9), x.solution_area, x.track))
        yield _candidate(snapshot, family, owner, lines, sorted(expected[family]))


def _candidate(
    snapshot: CustomerSnapshot,
    family: str,
    owner: str,
    lines: list[CreditLine],
    expected: list[str],
) -> Candidate:
    first = lines[0]
    assert first.holder is not None
    areas = sorted({AREA_NAMES[x.solution_area] for x in lines})
    stake = first.stake
    remedy = first.remedy
    return Candidate(
        rule=META.id,
        customer_tenant_id=snapshot.tenant_id,
        subject=f"{family} licences owned by partner tenant {owner}",
        title=f"{', '.join(areas)} recognition for {snapshot.name} goes to the partner tenant "
        f"{owner}, which sold its {FAMILIES[family]} licences",
        link_kind=LinkKind.CSP,
        link_id=f"{family}|{owner}",
        remediation=_remedy(snapshot.name, family, lines),
        evidence={
            "licence_owner_tenant": owner,
            "licences": first.holder.evidence,
            "source": Source.GRAPH_DIRECTORY_SUBSCRIPTIONS.value,
            "workload": family,
            "expected": expected,
            "recognition_rule": first.rule_id,
            "recognition_rules": [x.rule_id for x in lines],
            "solution_areas": sorted({x.solution_area for x in lines}),
            "would_count": remedy.kind.value if remedy else None,
            "stake": {"value": stake.value, "unit": stake.unit.value, "basis": stake.basis},
        },
        stake=stake,
    )


def _remedy(customer: str, family: str, lines: list[CreditLine]) -> str:
    """The licences' owner, then each association that would count, with the metrics it
    counts for (a CPOR claim of one variant for net customer adds, another for usage)."""
    first = lines[0]
    assert first.holder is not None
    held = f"{first.holder.evidence[:1].upper()}{first.holder.evidence[1:]}"
    steps: dict[str, list[str]] = {}
    for line in lines:
        if line.remedy is not None:
            titles = steps.setdefault(line.remedy.words, [])
            if line.title not in titles:
                titles.append(line.title)
    if not steps:
        return f"{held}. {META.remediation}"
    what = "; ".join(f"{words} ({', '.join(titles)})" for words, titles in steps.items())
    return (
        f"{held}. Agree with {customer} that you deliver {FAMILIES[family]}, then {what}: "
        "each counts that association for you."
    )


RULE = Rule(META, evaluate)
