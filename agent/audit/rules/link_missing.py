"""Link missing: an expected link of ours has never been observed."""

from __future__ import annotations

from collections.abc import Iterator

from agent.audit.context import AuditContext
from agent.audit.link import SEAT
from agent.audit.model import Candidate, Rule, RuleMeta, Severity, Verdict
from agent.audit.rules.recognition_held_by_other import held_elsewhere
from agent.audit.snapshot import CustomerSnapshot, finding_stake
from connectors.records.gdap import GdapRelationship, GdapStatus
from connectors.records.links import LinkKind
from connectors.records.pal import PalLink
from connectors.records.scope import Source

META = RuleMeta(
    id="link_missing",
    title="Link missing",
    severity=Severity.HIGH,
    rationale="Microsoft credits the partner only where its link exists; an expected link that "
    "was never set earns nothing for the work delivered.",
    remediation="Set the link: PAL with `az managementpartner create --partner-id <location ID>` "
    "as the identity that manages the subscription; CPOR with a claim in Partner Center; GDAP "
    "with a new relationship request.",
)

_PROOF: dict[LinkKind, Source] = {
    LinkKind.DPOR: Source.INSIGHTS,
    LinkKind.CPOR: Source.INSIGHTS,
    LinkKind.GDAP: Source.GRAPH_GDAP,
    LinkKind.CSP: Source.PC_CUSTOMERS,
    LinkKind.INDIRECT_RESELLER: Source.PC_CUSTOMERS,
}

_ANY_MANAGER = "an identity that manages the subscription (the partner's app or a PAL carrier)"


_HOW: dict[LinkKind, str] = {
    LinkKind.PAL: "As {who} in {customer}'s tenant, link it: `az managementpartner create "
    "--partner-id {ids}`.",
    LinkKind.CPOR: "File a claiming-partner-of-record claim for {workload} of {customer} in "
    "Partner Center (Incentives > Customer claims) with location ID {ids}, and ask the customer "
    "to approve it.",
    LinkKind.DPOR: "Ask {customer} to set partner ID {ids} as partner of record on {workload} "
    "(Microsoft 365 admin center or Azure portal).",
    LinkKind.GDAP: "Send {customer} a GDAP relationship request with least-privilege roles "
    "(no Global Administrator) and auto-extend on.",
    LinkKind.CSP: "Send {customer} a reseller relationship request from Partner Center.",
    LinkKind.INDIRECT_RESELLER: "Ask the indirect provider to associate {customer} with "
    "reseller ID {ids}.",
}


def _verified(kind: LinkKind, snapshot: CustomerSnapshot, ctx: AuditContext) -> bool:
    """Only complete reads can show a link absent; for PAL, every identity we read as."""
    if kind is LinkKind.PAL:
        return all(
            snapshot.complete(Source.ARM_PAL, identity)
            for identity in ctx.identities
            if snapshot.status(Source.ARM_PAL, identity) is not None
        ) and any(snapshot.status(Source.ARM_PAL, i) is not None for i in ctx.identities)
    if kind is LinkKind.GDAP and any(
        r.status is GdapStatus.UNKNOWN for r in snapshot.of(GdapRelationship)
    ):
        # a relationship in a status we do not know may be the link (guarantee proven-absence)
        return False
    return snapshot.complete(_PROOF[kind])


def _reaching(workload: str, snapshot: CustomerSnapshot, ctx: AuditContext) -> list[str]:
    """Our identities with a role on the subscription: the ones that can carry its PAL."""
    sub = workload.split(":", 1)[1] if ":" in workload else ""
    return sorted(
        p.identity
        for p in snapshot.of(PalLink)
        if p.identity in ctx.identities and sub in p.subscriptions
    )


def evaluate(snapshot: CustomerSnapshot, ctx: AuditContext) -> Iterator[Candidate]:
    ever_ours = {(s.kind, s.workload) for s in snapshot.link_states if ctx.ours(s.holder)}
    elsewhere = {family for family, _owner in held_elsewhere(snapshot, ctx)}
    for exp in snapshot.expectations:
        if exp.workload in elsewhere and exp.kind in (LinkKind.CPOR, LinkKind.DPOR):
            continue  # one cause, one finding: recognition_held_by_other names the seller
        present = [
            link
            for link in snapshot.links
            if link.kind in SEAT[exp.kind] and link.workload == exp.workload
        ]
        if present and not any(link.fresh for link in present):
            # Seen only in last-known data: this run cannot tell it is still there, so a
            # finding about it neither resolves nor advances (guarantee resolve-once counts judged
            # runs only).
            yield Candidate(
                rule=META.id,
                customer_tenant_id=snapshot.tenant_id,
                subject=f"{exp.kind} on {exp.workload}",
                title="",
                link_kind=exp.kind,
                link_id=exp.workload,
                verdict=Verdict.UNKNOWN,
            )
            continue
        if present or (exp.kind, exp.workload) in ever_ours:
            continue  # held by someone (other rules judge whom), or it disappeared
        stake = snapshot.stake(exp.workload)
        reach = _reaching(exp.workload, snapshot, ctx) if exp.kind is LinkKind.PAL else []
        yield Candidate(
            rule=META.id,
            customer_tenant_id=snapshot.tenant_id,
            subject=f"{exp.kind} on {exp.workload}",
            title=f"No {exp.kind.upper()} link on {exp.workload} for {snapshot.name}",
            link_kind=exp.kind,
            link_id=exp.workload,
            verdict=Verdict.FIRING if _verified(exp.kind, snapshot, ctx) else Verdict.UNKNOWN,
            remediation=_HOW[exp.kind].format(
                ids=" or ".join(sorted(ctx.right_ids(exp.kind))),
                customer=snapshot.name,
                workload=exp.workload,
                who=" or ".join(reach) or _ANY_MANAGER,
            ),
            evidence={
                "expected_from": exp.origin,
                "stake": stake,
                "workload": exp.workload,
                "right_partner_ids": sorted(ctx.right_ids(exp.kind)),
                "identities_with_access": reach,
            },
            stake=finding_stake(exp.workload, stake),
        )


RULE = Rule(META, evaluate)
