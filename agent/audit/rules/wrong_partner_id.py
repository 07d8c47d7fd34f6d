"""Wrong partner ID: our link names our global ID, or a location ID not meant for that link."""

from __future__ import annotations

from collections.abc import Iterator

from agent.audit.context import AuditContext
from agent.audit.model import Candidate, Rule, RuleMeta, Severity
from agent.audit.snapshot import CustomerSnapshot, finding_stake
from connectors.records.links import LinkKind

META = RuleMeta(
    id="wrong_partner_id",
    title="Wrong partner ID",
    severity=Severity.MEDIUM,
    rationale="PAL and CPOR are meant to carry a location partner ID; a link that names the "
    "global ID (or a location meant for other links) is a common mistake that earns nothing.",
    remediation="Update the link to the right location ID: for PAL, `az managementpartner "
    "update --partner-id <location ID>` as the linked identity; for CPOR, a new claim.",
)

_CHECKED = (LinkKind.PAL, LinkKind.CPOR, LinkKind.DPOR)


def evaluate(snapshot: CustomerSnapshot, ctx: AuditContext) -> Iterator[Candidate]:
    for link in snapshot.links:
        if link.kind not in _CHECKED or link.holder is None or not ctx.ours(link.holder):
            continue
        right = ctx.right_ids(link.kind)
        if link.holder in right:
            continue
        why = (
            "the global partner ID"
            if link.holder == ctx.global_partner_id
            else f"a location ID not meant for {link.kind.upper()}"
        )
        stake = snapshot.stake(link.workload)
        yield Candidate(
            rule=META.id,
            customer_tenant_id=snapshot.tenant_id,
            subject=f"{link.kind} on {link.workload} via {link.ref} names {link.holder}",
            title=f"{link.kind.upper()} on {link.workload} for {snapshot.name} names {why} "
            f"({link.holder}) in {_where(link.ref)}",
            link_kind=link.kind,
            link_id=f"{link.workload}|{link.ref}",
            remediation=f"{_how(link.kind, link.ref, snapshot.name, sorted(right))} "
            f"Right ID(s): {', '.join(sorted(right))}.",
            evidence={
                "named": link.holder,
                "right_partner_ids": sorted(right),
                "carried_by": link.ref,
                "source": link.source.value,
                "stake": stake,
            },
            stake=finding_stake(link.workload, stake),
        )


def _how(kind: str, ref: str, customer: str, right: list[str]) -> str:
    """The step for the link's kind and carrier, naming the first right ID."""
    pid = right[0] if right else "<location ID>"
    if kind == LinkKind.PAL and ref != "microsoft":
        return (
            f"Signed in as {ref} in {customer}'s tenant, run `az managementpartner update "
            f"--partner-id {pid}`."
        )
    if kind == LinkKind.PAL:
        return (
            f"Microsoft credits this PAL to the wrong ID: find the identity in {customer}'s "
            "tenant whose link names it and run `az managementpartner update --partner-id "
            f"{pid}` as that identity."
        )
    if kind == LinkKind.CPOR:
        return (
            f"File a new CPOR claim for the workload of {customer} with location ID "
            f"{pid} in Partner Center and ask the customer to approve it."
        )
    return f"Ask {customer} to set partner ID {pid} as partner of record on the workload instead."


def _where(ref: str) -> str:
    return "Microsoft's insight reports" if ref == "microsoft" else f"the link of {ref}"


RULE = Rule(META, evaluate)
