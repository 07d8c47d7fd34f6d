"""Credential expiring: the secret or certificate the agent signs in with as the partner's app or
as a PAL carrier ends within the lead time, or has ended.

When the partner's app can no longer sign in, every read of every customer fails at once; when a
carrier cannot, the PAL it holds stops earning. The end is read from the app registration in the
partner tenant (``passwordCredentials`` / ``keyCredentials``); which credential is the agent's is
told by the certificate's thumbprint, else by the kind configured (:mod:`agent.health`). One
partner-level finding per identity, critical in its last week; it resolves once a new credential
is read.
"""

from __future__ import annotations

from collections.abc import Iterator

from agent.audit.context import AuditContext
from agent.audit.credential import REFRESH_TOKEN, CredentialState, days_left, expiry_phrase
from agent.audit.model import Candidate, Rule, RuleMeta, Severity, Verdict
from agent.audit.snapshot import CustomerSnapshot
from connectors.base import PARTNER_APP

META = RuleMeta(
    id="credential_expiring",
    title="Credential expiring",
    severity=Severity.HIGH,
    rationale="A secret or certificate that ends stops the partner's app (every read of every "
    "customer) or a PAL carrier (the Azure credit its link earns) on that day, without warning.",
    remediation="Add a new certificate (preferred) or client secret to the app registration in "
    "the partner tenant, give the agent the new credential, then remove the old one.",
    open_after_runs=1,
    resolve_after_runs=1,
)


def _who(state: CredentialState) -> str:
    return "the partner's app" if state.identity == PARTNER_APP else f"PAL carrier {state.identity}"


def evaluate(snapshot: CustomerSnapshot, ctx: AuditContext) -> Iterator[Candidate]:
    if snapshot.tenant_id:
        return  # a partner-level finding, evaluated once per run
    for state in ctx.credentials:
        if state.kind == REFRESH_TOKEN:
            continue
        who = _who(state)
        if state.expires is None:
            # Never read (no customer has the app's service principal yet, or the partner
            # tenant's read failed): what was found before is held as it is.
            yield Candidate(
                rule=META.id,
                customer_tenant_id=None,
                subject=f"{state.kind} of {state.identity}",
                title=f"The credential of {who} has not been read",
                link_id=state.identity,
                verdict=Verdict.UNKNOWN,
            )
            continue
        if not state.due(ctx.now):
            continue
        what = "certificate" if state.kind == "certificate" else "client secret"
        app = f" (app id {state.app_id})" if state.app_id else ""
        yield Candidate(
            rule=META.id,
            customer_tenant_id=None,
            subject=f"{state.kind} of {state.identity}",
            title=f"The {what} of {who} {expiry_phrase(state.expires, ctx.now)}",
            link_kind=None,
            link_id=state.identity,
            severity=Severity.CRITICAL if state.critical(ctx.now) else None,
            remediation=f"Add a new certificate (preferred) or client secret to the app "
            f"registration of {who}{app} in the partner tenant before "
            f"{state.expires.date().isoformat()}, set it in the agent's [credentials]"
            + ("" if state.identity == PARTNER_APP else f" (carrier {state.identity})")
            + ", then remove the old one.",
            evidence={
                **state.evidence,
                "identity": state.identity,
                "app_id": state.app_id,
                "kind": state.kind,
                "expires": state.expires.isoformat(),
                "days_left": days_left(state.expires, ctx.now),
                "lead_days": state.lead.days,
            },
        )


RULE = Rule(META, evaluate)
