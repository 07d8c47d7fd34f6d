"""Cannot verify: a source could not be read for a scope this run; a blind spot, never a loss."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator

from agent.audit.model import Candidate, Rule, RuleMeta, Severity
from agent.audit.snapshot import AuditContext, CustomerSnapshot

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
    for cause, failures in sorted(grouped.items()):
        sources = sorted({f"{src}" + (f" as {scope.split('/', 1)[1]}" if "/" in scope else "")
                          for src, scope, _st, _err in failures})
        yield Candidate(
            rule=META.id,
            customer_tenant_id=None if partner_level else snapshot.tenant_id,
            subject=f"{cause} for {where}",
            title=f"Cannot verify {', '.join(sources)} for {where}: {failures[0][3] or cause}",
            link_kind=None,
            link_id=cause,
            severity=Severity.HIGH if partner_level else None,
            evidence={"cause": cause, "sources": sources,
                      "failures": [{"source": s, "scope": sc, "status": st, "error": e}
                                   for s, sc, st, e in failures]},
        )


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
