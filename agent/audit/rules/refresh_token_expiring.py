"""Refresh token expiring: the app+user refresh token will die of idleness, or is missing.

The app+user sources (Partner Center usage, the insights API) and the consent writes sign in
with the partner administrator's refresh token. Entra drops one that has not been used for 90
days; every redemption replaces it, so a token that ages is one nothing redeems (app+user
sources switched off, the agent stopped). The finding opens ``90 - [credentials]
refresh_token_warn_days`` days before it dies, is critical in its last week, and resolves when
the token is redeemed or replaced (`partnerlink auth login`).
"""

from __future__ import annotations

from collections.abc import Iterator

from agent.audit.context import AuditContext
from agent.audit.credential import REFRESH_TOKEN, days_left
from agent.audit.model import Candidate, Rule, RuleMeta, Severity
from agent.audit.snapshot import CustomerSnapshot

META = RuleMeta(
    id="refresh_token_expiring",
    title="Refresh token expiring",
    severity=Severity.HIGH,
    rationale="Without the app+user refresh token, usage, the insights reports and the "
    "consent writes stop; Entra drops it after 90 idle days and only a person can sign in again.",
    remediation="Run `partnerlink auth login` as a partner administrator (device code), or let "
    "a sync with app+user sources redeem the token before it dies.",
    open_after_runs=1,
    resolve_after_runs=1,
)


def evaluate(snapshot: CustomerSnapshot, ctx: AuditContext) -> Iterator[Candidate]:
    if snapshot.tenant_id:
        return  # a partner-level finding, evaluated once per run
    for state in ctx.credentials:
        if state.kind != REFRESH_TOKEN:
            continue
        evidence = {**state.evidence, "lead_days": state.lead.days}
        if state.expires is None:
            yield Candidate(
                rule=META.id,
                customer_tenant_id=None,
                subject="app+user refresh token",
                title="No app+user refresh token is stored: the app+user sources cannot be read",
                link_id=state.identity,
                remediation="Run `partnerlink auth login` as a partner administrator.",
                evidence=evidence,
            )
            continue
        if not state.due(ctx.now):
            continue
        left = days_left(state.expires, ctx.now)
        date = state.expires.date().isoformat()
        title = (
            f"The app+user refresh token died of idleness on {date}"
            if state.expires <= ctx.now
            else f"The app+user refresh token dies on {date} (in {left} days) unless it is used"
        )
        yield Candidate(
            rule=META.id,
            customer_tenant_id=None,
            subject="app+user refresh token",
            title=title,
            link_id=state.identity,
            severity=Severity.CRITICAL if state.critical(ctx.now) else None,
            remediation=f"Run `partnerlink auth login` as a partner administrator before {date}"
            " (or enable `[sources] app_user` so each sync redeems and renews it).",
            evidence={**evidence, "expires": state.expires.isoformat(), "days_left": left},
        )


RULE = Rule(META, evaluate)
