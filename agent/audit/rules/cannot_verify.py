"""Cannot verify: a source could not be read this run; a blind spot, never a loss.

One finding per reader (agent.readers: Graph in the customer's tenant, ARM, a carrier's PAL
read...) and cause across the estate (guarantee failed-read), naming every customer it hit:
forty unconsented tenants are one "consent missing" finding for Graph, not forty. The title
leads with the cause in plain words (agent.causes), so whatever cuts it short keeps the cause;
the sources, raw codes and errors stay in the evidence.
"""

from __future__ import annotations

from collections.abc import Iterator

from agent.audit.blind import BlindSpot
from agent.audit.context import AuditContext
from agent.audit.model import Candidate, Rule, RuleMeta, Severity
from agent.audit.snapshot import CustomerSnapshot
from agent.causes import fix_for
from connectors.base import PARTNER_APP

META = RuleMeta(
    id="cannot_verify",
    title="Cannot verify",
    severity=Severity.MEDIUM,
    rationale="A source that cannot be read hides whatever changed behind it; the agent says so "
    "instead of guessing, and keeps what it knew.",
    remediation="Check the app's consent and permissions in the tenant (`partnerlink "
    "readiness`), the credential of the identity, and the error shown in the evidence.",
)

NAMED = 5
"""Customers named in a title; the evidence lists them all (up to :data:`LISTED`)."""
LISTED = 500
"""Customers listed with their raw error in the evidence; the count says how many in all."""

_APP = "the partner's app"


def evaluate(snapshot: CustomerSnapshot, ctx: AuditContext) -> Iterator[Candidate]:
    if snapshot.tenant_id:
        return  # one partner-level finding per source and cause, listing the customers
    for spot in ctx.blind_spots:
        yield _candidate(spot)


def _candidate(spot: BlindSpot) -> Candidate:
    customers = spot.customers
    names = [u.name for u in customers]
    if spot.partner:
        where = "the partner tenant" + (f" and {_count(names)}" if names else "")
    else:
        where = _count(names)
    shown = ", ".join(names[:NAMED])
    if len(names) > NAMED:
        shown += f" and {len(names) - NAMED} more"
    who = _APP if spot.identity in (None, PARTNER_APP) else f"carrier {spot.identity}"
    if not customers:
        tenant = "the partner tenant"
    else:
        tenant = f"{names[0]}'s tenant" if len(names) == 1 else "each customer's tenant"
    return Candidate(
        rule=META.id,
        customer_tenant_id=None,
        subject=f"{spot.kind.label}: {spot.source}",
        title=f"{spot.kind.label.capitalize()} ({', '.join(spot.codes)}): cannot verify "
        f"{spot.source} for {where}" + (f": {shown}" if shown else ""),
        link_kind=None,
        link_id=f"{spot.source}|{spot.kind.value}",
        severity=Severity.HIGH if spot.partner else None,
        remediation=f"{spot.words[0].upper()}{spot.words[1:]} ({', '.join(spot.sources)}). "
        + fix_for(spot.kind, who=who, tenant=tenant),
        evidence={
            "cause": spot.kind.value,
            "words": spot.words,
            "codes": spot.codes,
            "reader": spot.source,
            "sources": spot.sources,
            "customers_total": len(customers),
            "partner": spot.partner,
            "failures": [
                {
                    "customer": u.tenant,
                    "name": u.name,
                    "source": u.source,
                    "code": u.cause.code,
                    "status": u.status,
                    "error": u.error,
                }
                for u in spot.unread[:LISTED]
            ],
        },
    )


def _count(names: list[str]) -> str:
    return f"{len(names)} customer{'s' if len(names) != 1 else ''}"


RULE = Rule(META, evaluate)
