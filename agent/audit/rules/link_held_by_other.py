"""Link held by another partner: where we expect our link, Microsoft credits someone else."""

from __future__ import annotations

from collections.abc import Iterator

from agent.audit.model import Candidate, Rule, RuleMeta, Severity
from agent.audit.snapshot import SEAT, AuditContext, CustomerSnapshot, stake_value
from connectors.records import Source

META = RuleMeta(
    id="link_held_by_other",
    title="Link held by another partner",
    severity=Severity.HIGH,
    rationale="Only one partner of record is credited per workload; while another partner holds "
    "it, the recognition for the work this partner delivers goes elsewhere.",
    remediation="Agree with the customer which partner serves the workload, then ask the "
    "customer to change the partner of record (DPOR) or file a CPOR claim it can approve.",
    required_sources=(Source.INSIGHTS,),
)

def evaluate(snapshot: CustomerSnapshot, ctx: AuditContext) -> Iterator[Candidate]:
    for exp in snapshot.expectations:
        kinds = SEAT[exp.kind]
        on_workload = [link for link in snapshot.links
                       if link.kind in kinds and link.workload == exp.workload]
        if any(ctx.ours(link.holder) and link.kind == exp.kind for link in on_workload):
            continue
        for link in on_workload:
            if ctx.ours(link.holder):
                continue
            stake = snapshot.stake(exp.workload)
            yield Candidate(
                rule=META.id,
                customer_tenant_id=snapshot.tenant_id,
                subject=f"{link.kind} on {exp.workload} held by {link.holder}",
                title=f"{link.kind.upper()} on {exp.workload} for {snapshot.name} is held by "
                f"partner ID {link.holder}",
                link_kind=link.kind,
                link_id=f"{exp.workload}|{link.holder}",
                evidence={"holder": link.holder, "source": link.source.value,
                          "expected": exp.kind, "expected_from": exp.origin, "stake": stake},
                value_at_stake=stake_value(stake),
            )


RULE = Rule(META, evaluate)
