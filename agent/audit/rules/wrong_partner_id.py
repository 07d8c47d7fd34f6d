"""Wrong partner ID: our link names our global ID, or a location ID not meant for that link."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from agent.audit.context import AuditContext
from agent.audit.link import DerivedLink
from agent.audit.model import Candidate, Rule, RuleMeta, Severity
from agent.audit.snapshot import CustomerSnapshot, finding_stake
from connectors.records.links import LinkKind
from connectors.records.scope import Source

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
    """One finding per cause: a link carried by one of our identities names the wrong ID on
    every subscription it reaches (one finding for the identity), and the insight reports'
    row for the same link adds no second one; a report row no identity of ours carries (a CPOR,
    a DPOR, a PAL of a user) is a finding of its own."""
    wrong = [
        link
        for link in snapshot.links
        if link.kind in _CHECKED
        and link.holder is not None
        and ctx.ours(link.holder)
        and link.holder not in ctx.right_ids(link.kind)
    ]
    carried: dict[tuple[str, str, str], list[DerivedLink]] = defaultdict(list)
    for link in wrong:
        if link.source is Source.ARM_PAL:
            carried[(link.kind, link.ref, link.holder or "")].append(link)
    seen = {(link.kind, link.workload, link.holder) for links in carried.values() for link in links}
    for links in carried.values():
        yield _candidate(snapshot, ctx, links, f"{links[0].kind}|{links[0].ref}")
    for link in wrong:
        if link.source is Source.ARM_PAL or (link.kind, link.workload, link.holder) in seen:
            continue
        yield _candidate(snapshot, ctx, [link], f"{link.workload}|{link.ref}")


def _candidate(
    snapshot: CustomerSnapshot, ctx: AuditContext, links: list[DerivedLink], link_id: str
) -> Candidate:
    link = links[0]
    holder = link.holder or ""
    right = ctx.right_ids(link.kind)
    why = (
        "the global partner ID"
        if holder == ctx.global_partner_id
        else f"a location ID not meant for {link.kind.upper()}"
    )
    workloads = sorted(x.workload for x in links)
    on = workloads[0] if len(workloads) == 1 else f"{len(workloads)} subscriptions"
    figures = _figures(snapshot, workloads)
    return Candidate(
        rule=META.id,
        customer_tenant_id=snapshot.tenant_id,
        subject=f"{link.kind} on {on} via {link.ref} names {holder}",
        title=f"{link.kind.upper()} on {on} for {snapshot.name} names {why} "
        f"({holder}) in {_where(link.ref)}",
        link_kind=link.kind,
        link_id=link_id,
        remediation=f"{_how(link.kind, link.ref, snapshot.name, sorted(right))} "
        f"Right ID(s): {', '.join(sorted(right))}.",
        evidence={
            "named": holder,
            "right_partner_ids": sorted(right),
            "carried_by": link.ref,
            "source": link.source.value,
            "workloads": workloads,
            "stake": figures,
        },
        stake=finding_stake(workloads[0], figures),
    )


def _figures(snapshot: CustomerSnapshot, workloads: list[str]) -> dict[str, Any]:
    """What rides on the workloads together: Azure revenue adds up over subscriptions."""
    if len(workloads) == 1:
        return snapshot.stake(workloads[0])
    acr = [snapshot.stake(w).get("acr_usd") for w in workloads]
    known = [a for a in acr if a is not None]
    return {"acr_usd": sum(known)} if known else {}


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
