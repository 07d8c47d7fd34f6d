"""Where the partner expects its links for one customer: the managed-customers file's
expectations, one per Azure subscription where the file says ``azure``, and the domain
defaults (our PAL on every subscription we reach) where the file is silent."""

from __future__ import annotations

from collections.abc import Iterable

from agent.audit.context import AuditContext
from agent.audit.derive import has_active_gdap
from agent.audit.link import Expectation
from agent.audit.snapshot import CustomerSnapshot
from connectors.records.attribution import Attribution
from connectors.records.customers import Customer
from connectors.records.links import LinkKind


def default_expectations(snapshot: CustomerSnapshot, ctx: AuditContext) -> list[Expectation]:
    """domain.md defaults: a customer with an active GDAP or a CSP relationship with us is
    expected to carry our PAL on every Azure subscription our identities can reach."""
    if not ctx.expect_pal_on_azure:
        return []
    served = has_active_gdap(snapshot) or any(
        c.relationship == "reseller" for c in snapshot.of(Customer)
    )
    if not served:
        return []
    return [
        Expectation(snapshot.tenant_id, f"azure:{sub}", LinkKind.PAL, "default")
        for sub in sorted(snapshot.reachable_subscriptions(ctx.identities))
    ]


def expand(
    expectations: Iterable[Expectation], snapshot: CustomerSnapshot, ctx: AuditContext
) -> tuple[Expectation, ...]:
    """File expectations on workload ``azure`` become one per known Azure subscription; the
    defaults fill in where the file is silent."""
    out: dict[tuple[str, str], Expectation] = {}
    for exp in expectations:
        if exp.workload == "azure":
            subs = snapshot.reachable_subscriptions(ctx.identities) | {
                a.workload.split(":", 1)[1]
                for a in snapshot.of(Attribution)
                if a.workload.startswith("azure:")
            }
            for sub in sorted(subs):
                out[(f"azure:{sub}", exp.kind)] = Expectation(
                    exp.customer_tenant_id, f"azure:{sub}", exp.kind, exp.origin
                )
        else:
            out[(exp.workload, exp.kind)] = exp
    for exp in default_expectations(snapshot, ctx):
        out.setdefault((exp.workload, exp.kind), exp)
    return tuple(out.values())
