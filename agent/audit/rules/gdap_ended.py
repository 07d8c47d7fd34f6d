"""GDAP ended: a relationship went to expired or terminated and no active one is left.

Losing GDAP usually means losing the access that keeps the other links alive (the roles PAL
identities hold, the admin work the CPOR claims rest on), so it is raised as soon as Graph shows
it, once per customer: what matters is that no active relationship remains, and the finding
resolves as soon as a new one is active. The status decides the wording (guarantee proven-absence):
``expired`` is an expiry, never a termination, and a relationship in a status we do not recognise
may well be the active one, so it makes the rule ``unknown`` rather than firing.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

from agent.audit.context import AuditContext
from agent.audit.link import TENANT
from agent.audit.model import Candidate, Rule, RuleMeta, Severity, Verdict
from agent.audit.snapshot import CustomerSnapshot, finding_stake
from connectors.records.gdap import GLOBAL_ADMINISTRATOR_ROLE, GdapRelationship, GdapStatus
from connectors.records.scope import Source

META = RuleMeta(
    id="gdap_ended",
    title="GDAP relationship ended",
    severity=Severity.HIGH,
    rationale="Without an active GDAP relationship the partner has no admin access to the "
    "customer: the roles its PAL identities hold and the work its claims rest on go with it.",
    remediation="Send the customer a new GDAP relationship request in Partner Center "
    "(least-privilege roles, without Global Administrator, auto-extend 180 days) and ask its "
    "Global Administrator to approve it.",
    required_sources=(Source.GRAPH_GDAP,),
)

_ENDED = {GdapStatus.EXPIRED: "expired", GdapStatus.TERMINATED: "terminated"}
_ACTIVE = frozenset({GdapStatus.ACTIVE, GdapStatus.EXPIRING})
_REQUESTED = frozenset(
    {GdapStatus.CREATED, GdapStatus.APPROVAL_PENDING, GdapStatus.APPROVED, GdapStatus.ACTIVATING}
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def ended_relationship(snapshot: CustomerSnapshot) -> GdapRelationship | None:
    """The latest ended relationship, where one is seen and no active one is left: this rule's
    cause. A GDAP link that disappeared by it is this finding, not a second one
    (``link_disappeared`` leaves it here)."""
    relationships = snapshot.of(GdapRelationship)
    ended = [r for r in relationships if r.status in _ENDED]
    if not ended or any(r.status in _ACTIVE for r in relationships):
        return None
    return max(ended, key=lambda r: (r.ends or _EPOCH, r.relationship_id))


def evaluate(snapshot: CustomerSnapshot, ctx: AuditContext) -> Iterator[Candidate]:
    relationships = snapshot.of(GdapRelationship)
    last = ended_relationship(snapshot)
    if last is None:
        return
    ended = [r for r in relationships if r.status in _ENDED]
    how = _ENDED[last.status]
    when = last.ends.date().isoformat() if last.ends and last.ends <= ctx.now else None
    name = last.display_name or last.relationship_id
    requested = [r for r in relationships if r.status in _REQUESTED]
    stake = snapshot.stake(TENANT)
    why = _why(last) if last.status is GdapStatus.EXPIRED else None
    yield Candidate(
        rule=META.id,
        customer_tenant_id=snapshot.tenant_id,
        subject="gdap relationship ended",
        title=f"No active GDAP relationship with {snapshot.name}: {name} {how}"
        + (f" on {when}" if when else "")
        + (f" ({why})" if why else ""),
        link_kind="gdap",
        link_id=TENANT,
        # A relationship in a status we do not know may be the active one (guarantee
        # proven-absence).
        verdict=Verdict.UNKNOWN
        if any(r.status is GdapStatus.UNKNOWN for r in relationships)
        else Verdict.FIRING,
        remediation=_remedy(snapshot.name, how, requested),
        evidence={
            "relationship_id": last.relationship_id,
            "display_name": last.display_name,
            "status": last.raw_status or str(last.status),
            "ended": how,
            "ended_on": when,
            "end_date": last.ends.isoformat() if last.ends else None,
            "activated": last.activated.isoformat() if last.activated else None,
            "auto_extend_duration": last.auto_extend_duration,
            "had_global_administrator": GLOBAL_ADMINISTRATOR_ROLE in last.roles,
            "why": why,
            "requests_waiting": [
                {
                    "relationship_id": r.relationship_id,
                    "display_name": r.display_name,
                    "status": r.raw_status,
                }
                for r in requested
            ],
            "other_ended": sorted(r.relationship_id for r in ended if r is not last),
            "stake": stake,
        },
        stake=finding_stake(TENANT, stake),
    )


def _why(rel: GdapRelationship) -> str | None:
    if GLOBAL_ADMINISTRATOR_ROLE in rel.roles:
        return "it included Global Administrator, which blocks auto-extend"
    if not rel.auto_extends:
        return "auto-extend was off"
    return None


def _remedy(customer: str, how: str, requested: list[GdapRelationship]) -> str:
    if requested:
        names = ", ".join(
            f"{r.display_name or r.relationship_id} ({r.raw_status or r.status})" for r in requested
        )
        return (
            f"A new request is already waiting: {names}. Ask {customer}'s Global "
            "Administrator to approve it (the approval link is in the request e-mail or in "
            "Partner Center > Customers > Admin relationships)."
        )
    lead = (
        f"Confirm with {customer} that it still wants your services (a terminated "
        "relationship was ended on purpose by one side), then s"
        if how == "terminated"
        else "S"
    )
    return (
        f"{lead}end {customer} a new GDAP relationship request in Partner Center "
        "(least-privilege roles, without Global Administrator, auto-extend 180 days) and "
        "ask its Global Administrator to approve it."
    )


RULE = Rule(META, evaluate)
