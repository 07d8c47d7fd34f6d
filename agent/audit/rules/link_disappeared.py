"""Link disappeared: a link of ours seen in an earlier complete run is gone (K runs, R4)."""

from __future__ import annotations

from collections.abc import Iterator

from agent.audit.model import Candidate, Rule, RuleMeta, Severity
from agent.audit.snapshot import AuditContext, CustomerSnapshot, stake_value

META = RuleMeta(
    id="link_disappeared",
    title="Link disappeared",
    severity=Severity.CRITICAL,
    rationale="A link that existed and vanished stops recognition silently; caught early it is "
    "a small fix, caught at the next designation review it is months of lost credit.",
    remediation="Restore the link at its cause: re-create or re-enable the identity and re-link "
    "its PAL, renew the GDAP relationship, or ask the customer to restore the partner of record.",
)


def evaluate(snapshot: CustomerSnapshot, ctx: AuditContext) -> Iterator[Candidate]:
    for state in snapshot.link_states:
        if state.missing_runs < 1 or not ctx.ours(state.holder):
            continue
        stake = snapshot.stake(state.workload)
        confirmed = state.missing_runs >= ctx.disappeared_after_runs
        yield Candidate(
            rule=META.id,
            customer_tenant_id=snapshot.tenant_id,
            subject=f"{state.kind} on {state.workload} via {state.ref}",
            title=f"{state.kind.upper()} on {state.workload} for {snapshot.name} disappeared: "
            f"{state.cause or 'cause unknown'}",
            link_kind=state.kind,
            link_id=f"{state.workload}|{state.ref}|{state.holder or '-'}",
            confirmed=confirmed,
            evidence={
                "holder": state.holder, "carried_by": state.ref, "source": state.source,
                "last_seen": state.last_seen_at.isoformat(), "missing_runs": state.missing_runs,
                "runs_to_confirm": ctx.disappeared_after_runs, "cause": state.cause,
                "stake": stake,
            },
            value_at_stake=stake_value(stake),
        )


RULE = Rule(META, evaluate)
