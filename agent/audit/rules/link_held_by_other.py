"""Link held by another partner: where we expect our link, Microsoft credits someone else."""

from __future__ import annotations

from collections.abc import Iterator

from agent.audit.context import AuditContext
from agent.audit.link import SEAT, DerivedLink
from agent.audit.model import Candidate, Rule, RuleMeta, Severity
from agent.audit.snapshot import CustomerSnapshot, finding_stake
from connectors.records.links import LinkKind
from connectors.records.scope import Source

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
        on_workload = [
            link for link in snapshot.links if link.kind in kinds and link.workload == exp.workload
        ]
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
                remediation=_remedy(link, exp.kind, snapshot.name, ctx),
                evidence={
                    "holder": link.holder,
                    "holder_kind": link.kind,
                    "carried_by": link.ref,
                    "source": link.source.value,
                    "workload": exp.workload,
                    "expected": exp.kind,
                    "expected_from": exp.origin,
                    "right_partner_ids": sorted(ctx.right_ids(exp.kind)),
                    "stake": stake,
                },
                stake=finding_stake(exp.workload, stake),
            )


def _remedy(link: DerivedLink, expected: LinkKind, customer: str, ctx: AuditContext) -> str:
    """What to ask for, of whom, naming the holder and our right ID for the expected link."""
    ids = " or ".join(sorted(ctx.right_ids(expected)))
    held = f"{link.kind.upper()} on {link.workload} names partner ID {link.holder}"
    if expected is LinkKind.PAL:
        return (
            f"{held} (via {link.ref}). Signed in as the identity that manages the "
            f"subscription for you (the partner's app or a PAL carrier) in {customer}'s "
            f"tenant, run `az managementpartner create --partner-id {ids}`."
        )
    if expected is LinkKind.CPOR:
        return (
            f"{held}. Agree with {customer} that you deliver {link.workload}, then file a "
            f"CPOR claim with location ID {ids} in Partner Center (Incentives > Customer "
            "claims) and ask the customer to approve it."
        )
    if expected is LinkKind.DPOR:
        return (
            f"{held}. Agree with {customer} that you serve {link.workload}, then ask it to "
            f"set partner ID {ids} as partner of record (Microsoft 365 admin center or "
            "Azure portal)."
        )
    if expected in (LinkKind.CSP, LinkKind.INDIRECT_RESELLER):
        return (
            f"{held}: another reseller sells {customer}'s subscription. Agree with the "
            "customer and the indirect provider who transacts; if it should be you, send "
            "a reseller relationship request from Partner Center."
        )
    return f"{held}. {META.remediation}"


RULE = Rule(META, evaluate)
