"""Source anomaly: a source suddenly returned nothing, or many links of one kind vanished at once.

Such a night is far more often an outage, a permission change or a read that reported success
without data than a real mass loss (guarantee mass-loss-guard). The engine finds these in a first
pass over the estate (agent.audit.anomaly) and puts them in the context; this rule turns them into
one partner-level finding, announced at once, while the per-customer disappearances they touch are
held as ``suspect``. It resolves at the first run without an anomaly.
"""

from __future__ import annotations

from collections.abc import Iterator

from agent.audit.context import AuditContext
from agent.audit.model import Candidate, Rule, RuleMeta, Severity
from agent.audit.snapshot import CustomerSnapshot

META = RuleMeta(
    id="source_anomaly",
    title="Source anomaly",
    severity=Severity.HIGH,
    rationale="An outage that answers '200, empty' looks like every customer losing its links "
    "on the same night; one alert about the source beats hundreds of false disappearances.",
    remediation="Check the source before the customers: an API outage or change, a permission "
    "or consent removed from the partner's app, a credential that stopped working. The held "
    "disappearances open by themselves if the next run still shows the links gone, and are "
    "withdrawn if they come back.",
    open_after_runs=1,
    resolve_after_runs=1,
)


def evaluate(snapshot: CustomerSnapshot, ctx: AuditContext) -> Iterator[Candidate]:
    if snapshot.tenant_id or not ctx.anomalies:
        return  # a partner-level finding, evaluated once per run
    what = "; ".join(a.describe() for a in ctx.anomalies)
    names = ", ".join(a.name for a in ctx.anomalies)
    yield Candidate(
        rule=META.id,
        customer_tenant_id=None,
        subject="source anomaly",
        title=f"Source anomaly: {what}; link disappearances of {names} are held until the next "
        "run confirms them",
        link_kind=None,
        link_id="anomaly",
        remediation=f"Check {names} before the customers (API status, the app's permissions and "
        "consent, its credential, `partnerlink check --online`). The held disappearances open "
        "by themselves if the next run still shows the links gone, and are withdrawn if they "
        "come back.",
        evidence={
            "anomalies": [a.as_dict() for a in ctx.anomalies],
            "threshold_percent": ctx.mass_disappearance_percent,
            "run_id": ctx.run_id,
        },
    )


RULE = Rule(META, evaluate)
