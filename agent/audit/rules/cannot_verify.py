"""Cannot verify: a source could not be read for a scope this run; a blind spot, never a loss."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator

from agent.audit.context import AuditContext
from agent.audit.model import Candidate, Rule, RuleMeta, Severity
from agent.audit.snapshot import CustomerSnapshot

META = RuleMeta(
    id="cannot_verify",
    title="Cannot verify",
    severity=Severity.MEDIUM,
    rationale="A source that cannot be read hides whatever changed behind it; the agent says so "
    "instead of guessing, and keeps what it knew.",
    remediation="Check the app's consent and permissions in the tenant (`partnerlink check "
    "--online`), the credential of the identity, and the error shown in the evidence.",
)


def evaluate(snapshot: CustomerSnapshot, ctx: AuditContext) -> Iterator[Candidate]:
    partner_level = snapshot.tenant_id == ""
    grouped: dict[str, list[tuple[str, str, str, str]]] = defaultdict(list)
    for failure in snapshot.failures():
        _source, scope, status, error = failure
        if (scope == "partner") != partner_level:
            continue
        grouped[_cause(status, error)].append(failure)
    where = "the partner tenant" if partner_level else snapshot.name
    app = ctx.identities[0] if ctx.identities else _APP  # reads every scope without identity
    for cause, failures in sorted(grouped.items()):
        sources = sorted(
            {
                f"{src}" + (f" as {scope.split('/', 1)[1]}" if "/" in scope else "")
                for src, scope, _st, _err in failures
            }
        )
        yield Candidate(
            rule=META.id,
            customer_tenant_id=None if partner_level else snapshot.tenant_id,
            subject=f"{cause} for {where}",
            title=f"Cannot verify {', '.join(sources)} for {where}: {failures[0][3] or cause}",
            link_kind=None,
            link_id=cause,
            severity=Severity.HIGH if partner_level else None,
            remediation=_remedy(
                cause,
                where,
                sorted(
                    {
                        scope.split("/", 1)[1] if "/" in scope else app
                        for _s, scope, _st, _e in failures
                    }
                ),
            ),
            evidence={
                "cause": cause,
                "sources": sources,
                "failures": [
                    {"source": s, "scope": sc, "status": st, "error": e}
                    for s, sc, st, e in failures
                ],
            },
        )


_APP = "the partner's app"

_STEPS = {
    "AADSTS7000215": "The client secret the agent holds for {who} is wrong: create a new "
    "credential (a certificate is preferred) in its app registration and update the config.",
    "AADSTS7000222": "The client secret of {who} has expired: create a new credential (a "
    "certificate is preferred) in its app registration and update the config.",
    "AADSTS700016": "{who} has no service principal in {tenant}: ask the customer's "
    "administrator to grant admin consent to the app again, or take the tenant off its list.",
    "AADSTS7000229": "{who} has no service principal in {tenant}: ask the customer's "
    "administrator to grant admin consent to the app again.",
    "AADSTS65001": "Consent for {who} is missing in {tenant}: ask the customer's "
    "administrator to grant admin consent to the app.",
    "HTTP 401": "The token of {who} was rejected for {where}: check the app's consent and its "
    "credential (`partnerlink check --online`).",
    "HTTP 403": "{who} lacks a permission or role for {where}: `partnerlink check --online` "
    "lists the Graph roles it needs; for ARM, it needs a role on the subscriptions.",
    "HTTP 429": "Microsoft throttled the reads for {where}: this usually clears by itself on "
    "the next run; if it persists, lower `sync.concurrency`.",
    "not_attempted": "The run's time budget ran out before {where} was read: raise "
    "`sync.time_budget` or `sync.concurrency`.",
}


def _remedy(cause: str, where: str, identities: list[str]) -> str:
    """The step for the cause, naming the identity and the customer."""
    who = " and ".join(identities) or _APP
    step = _STEPS.get(cause)
    if step is None and cause.startswith("HTTP 5"):
        step = (
            "Microsoft answered with a server error for {where}: this usually clears by "
            "itself; if it persists over several runs, check the Microsoft service health."
        )
    if step is None:
        return META.remediation
    tenant = where if where == "the partner tenant" else f"{where}'s tenant"
    return step.format(who=who, where=where, tenant=tenant)


def _cause(status: str, error: str) -> str:
    """What the failures have in common: an Entra code, an HTTP status, or the status."""
    code = re.search(r"AADSTS\d+", error)
    if code:
        return code.group(0)
    http = re.search(r"HTTP (\d{3})", error)
    if http:
        return f"HTTP {http.group(1)}"
    return status if status != "failed" else (error.split(":", 1)[0][:60] or status)


RULE = Rule(META, evaluate)
