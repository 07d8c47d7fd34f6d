"""PAL carrier at risk: an identity that carries our PAL is about to stop earning it.

A PAL earns only while its identity exists, can sign in and holds a role on the resources: a
credential that expires, a service principal that is disabled or a role that is removed ends
the credit silently, and the partner hears of it months later in a designation score. The rule
looks at every identity we read PAL as (the partner's app and the carriers) that carries, or
carried, our PAL in the customer tenant. A deleted identity is ``link_disappeared``'s business;
where the expiry of the credential is unknown or the PAL read as the identity failed, and
nothing else is wrong, the rule cannot tell and says ``unknown``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from agent.audit.context import AuditContext
from agent.audit.credential import days_left, expiry_phrase
from agent.audit.model import Candidate, Rule, RuleMeta, Severity, Verdict
from agent.audit.snapshot import CustomerSnapshot, finding_stake
from agent.store.values import LinkState
from connectors.records.links import LinkKind
from connectors.records.pal import Identity, PalLink
from connectors.records.scope import Source

META = RuleMeta(
    id="pal_carrier_at_risk",
    title="PAL carrier at risk",
    severity=Severity.HIGH,
    rationale="A Partner Admin Link earns only while its identity can sign in and holds a role "
    "on the resources; an expiring credential, a disabled service principal or a removed role "
    "ends the Azure credit without any notice.",
    remediation="Renew the identity's credential before it expires, re-enable its service "
    "principal, or give it its Azure role back on the subscriptions its PAL covered.",
    required_sources=(Source.GRAPH_IDENTITIES,),
)


def evaluate(snapshot: CustomerSnapshot, ctx: AuditContext) -> Iterator[Candidate]:
    for name in ctx.identities:
        pal = next((p for p in snapshot.of(PalLink) if p.identity == name), None)
        states = [
            s
            for s in snapshot.link_states
            if s.kind == LinkKind.PAL
            and s.ref == name
            and s.source == Source.ARM_PAL
            and ctx.ours(s.holder)
        ]
        carries = pal is not None and pal.partner_id is not None and ctx.ours(pal.partner_id)
        ident = snapshot.identity(name)
        if ident is None or not (carries or states):
            continue  # not ours to watch here, or deleted (link_disappeared reports that)
        pal_read = snapshot.status(Source.ARM_PAL, name)
        lost = _lost_subscriptions(states, pal if pal_read == "complete" else None)
        reasons, steps, evidence = _assess(ident, lost, snapshot.name, ctx)
        covered = sorted(set(pal.subscriptions if pal is not None and carries else ()) | set(lost))
        stakes = {sub: snapshot.stake(f"azure:{sub}") for sub in covered}
        value = sum(float(s.get("acr_usd") or 0.0) for s in stakes.values())
        cannot_tell = ident.credential_expires is None or (
            pal_read is not None and pal_read != "complete"
        )
        if not reasons and not cannot_tell:
            continue  # healthy: an earlier finding about it clears
        evidence.update(
            {
                "identity": name,
                "object_id": ident.object_id,
                "app_id": ident.app_id,
                "partner_id": pal.partner_id if pal is not None else None,
                "subscriptions_covered": covered,
                "pal_read": pal_read,
                "stake": {"acr_usd": value} if value else {},
            }
        )
        yield Candidate(
            rule=META.id,
            customer_tenant_id=snapshot.tenant_id,
            subject=f"pal carrier {name}",
            title=f"PAL carrier {name} in {snapshot.name}: {'; '.join(reasons)}"
            if reasons
            else f"PAL carrier {name} in {snapshot.name}",
            link_kind=LinkKind.PAL,
            link_id=name,
            verdict=Verdict.FIRING if reasons else Verdict.UNKNOWN,
            severity=Severity.CRITICAL if evidence.get("days_left", 99) <= 7 else None,
            remediation=" ".join(steps) if steps else None,
            evidence=evidence,
            stake=finding_stake("azure", {"acr_usd": value}),
        )


def _lost_subscriptions(states: list[LinkState], pal: PalLink | None) -> list[str]:
    """Subscriptions whose PAL link via the identity is gone because its role went.

    With a fresh PAL read that still names the same partner, a subscription missing from the
    ones it can reach is a lost role; without one, the cause recorded when the loss was proven.
    """
    lost: set[str] = set()
    for state in states:
        if state.missing_runs < 1 or not state.workload.startswith("azure:"):
            continue
        sub = state.workload.split(":", 1)[1]
        if pal is not None and pal.partner_id == state.holder:
            if sub not in pal.subscriptions:
                lost.add(sub)
        elif pal is None and "lost its role" in (state.cause or ""):
            lost.add(sub)
    return sorted(lost)


def _assess(
    ident: Identity,
    lost: list[str],
    customer: str,
    ctx: AuditContext,
) -> tuple[list[str], list[str], dict[str, Any]]:
    """What is wrong with the identity, what to do about each, and the evidence."""
    reasons: list[str] = []
    steps: list[str] = []
    evidence: dict[str, Any] = {"enabled": ident.enabled, "lost_role_on": lost}
    expires = ident.credential_expires
    if expires is not None:
        evidence["credential_expires"] = expires.isoformat()
        if expires <= ctx.now + timedelta(days=ctx.credential_expiry_lead_days):
            evidence["days_left"] = days_left(expires, ctx.now)
            date = expires.date().isoformat()
            reasons.append(f"credential {expiry_phrase(expires, ctx.now)}")
            steps.append(
                f"Add a new certificate (preferred) or client secret to the app registration "
                f"of {ident.identity}"
                + (f" (app id {ident.app_id})" if ident.app_id else "")
                + f" in the partner tenant before {date}, and give the agent the new "
                "credential; the PAL earns only while the identity can sign in."
            )
    if not ident.enabled:
        reasons.append("its service principal is disabled")
        steps.append(
            f"Re-enable the service principal {ident.identity}"
            + (f" (object id {ident.object_id})" if ident.object_id else "")
            + f" in {customer}'s tenant: Entra admin center > Enterprise applications > "
            "Properties > Enabled for users to sign in."
        )
    if lost:
        subs = ", ".join(lost)
        reasons.append(f"lost its role on subscription{'s' if len(lost) > 1 else ''} {subs}")
        steps.append(
            f"Give {ident.identity} its Azure role again on {subs} (for example `az role "
            f"assignment create --assignee {ident.object_id or '<object id>'} --role "
            "Contributor --scope /subscriptions/<id>`), or acknowledge this finding if the "
            "subscription was cancelled."
        )
    return reasons, steps, evidence


RULE = Rule(META, evaluate)
