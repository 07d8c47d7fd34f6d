"""GDAP expiring: an active relationship ends soon and will not extend by itself."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from agent.audit.context import AuditContext
from agent.audit.link import TENANT
from agent.audit.model import Candidate, Rule, RuleMeta, Severity
from agent.audit.snapshot import CustomerSnapshot, finding_stake
from connectors.records.gdap import GLOBAL_ADMINISTRATOR_ROLE, GdapRelationship, GdapStatus
from connectors.records.scope import Source

META = RuleMeta(
    id="gdap_expiring",
    title="GDAP relationship expiring",
    severity=Severity.HIGH,
    rationale="When GDAP ends the partner loses the access that keeps its other links alive; "
    "auto-extend cannot help when it is off or the Global Administrator role is included.",
    remediation="Send the customer a new GDAP relationship request (least-privilege roles, "
    "without Global Administrator, auto-extend on) before the end date.",
    required_sources=(Source.GRAPH_GDAP,),
)


def evaluate(snapshot: CustomerSnapshot, ctx: AuditContext) -> Iterator[Candidate]:
    horizon = ctx.now + timedelta(days=ctx.gdap_expiry_lead_days)
    for rel in snapshot.of(GdapRelationship):
        if rel.status not in (GdapStatus.ACTIVE, GdapStatus.EXPIRING) or rel.ends is None:
            continue
        if rel.ends > horizon or rel.auto_extends:
            continue
        days = max(0, (rel.ends - ctx.now).days)
        why = (
            "it includes the Global Administrator role"
            if GLOBAL_ADMINISTRATOR_ROLE in rel.roles
            else "auto-extend is off"
        )
        stake = snapshot.stake(TENANT)
        yield Candidate(
            rule=META.id,
            customer_tenant_id=snapshot.tenant_id,
            subject=f"gdap {rel.relationship_id}",
            title=f"GDAP relationship {rel.display_name or rel.relationship_id} with "
            f"{snapshot.name} ends in {days} days and will not auto-extend ({why})",
            link_kind="gdap",
            link_id=rel.relationship_id,
            severity=Severity.CRITICAL if days <= 7 else None,
            remediation=f"Before {rel.ends.date().isoformat()}, send {snapshot.name} a new GDAP "
            "relationship request in Partner Center (least-privilege roles, without Global "
            "Administrator, auto-extend 180 days) and ask its Global Administrator to approve "
            f"it; {rel.display_name or rel.relationship_id} cannot extend itself ({why}).",
            evidence={
                "relationship_id": rel.relationship_id,
                "display_name": rel.display_name,
                "ends": rel.ends.isoformat(),
                "days_left": days,
                "auto_extend_duration": rel.auto_extend_duration,
                "global_administrator": GLOBAL_ADMINISTRATOR_ROLE in rel.roles,
                "why": why,
                "stake": stake,
            },
            stake=finding_stake(TENANT, stake),
        )


RULE = Rule(META, evaluate)
