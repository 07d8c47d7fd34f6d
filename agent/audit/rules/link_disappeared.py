"""Link disappeared: a link of ours seen in an earlier complete run is gone (K runs, guarantee
confirm-k-runs).

The K runs are counted on the link's presence history (``LinkState.missing_runs``), so the rule
confirms its own candidates and opens at once when they are confirmed. A miss counted while a
source anomaly made the source doubtful is held as ``suspect`` (guarantee mass-loss-guard) until a
calm run proves the absence again. A link of ours that this run could not see (its read failed) is
reported as ``unknown``, so a finding about it neither resolves nor advances on a run that proved
nothing.
"""

from __future__ import annotations

from collections.abc import Iterator

from agent.audit.context import AuditContext
from agent.audit.model import Candidate, Rule, RuleMeta, Severity, Verdict
from agent.audit.rules.gdap_ended import ended_relationship
from agent.audit.snapshot import CustomerSnapshot, finding_stake
from agent.store.values import LinkState
from connectors.records.links import LinkKind
from connectors.records.scope import Source

META = RuleMeta(
    id="link_disappeared",
    title="Link disappeared",
    severity=Severity.CRITICAL,
    rationale="A link that existed and vanished stops recognition silently; caught early it is "
    "a small fix, caught at the next designation review it is months of lost credit.",
    remediation="Restore the link at its cause: re-create or re-enable the identity and re-link "
    "its PAL, renew the GDAP relationship, or ask the customer to restore the partner of record.",
    open_after_runs=1,
)


def evaluate(snapshot: CustomerSnapshot, ctx: AuditContext) -> Iterator[Candidate]:
    gdap_ended = ended_relationship(snapshot) is not None and snapshot.complete(Source.GRAPH_GDAP)
    for state in snapshot.link_states:
        if not ctx.ours(state.holder):
            continue
        if gdap_ended and state.kind == LinkKind.GDAP:
            continue  # one cause, one finding: gdap_ended reports the relationship that ended
        link_id = f"{state.workload}|{state.ref}|{state.holder or '-'}"
        subject = f"{state.kind} on {state.workload} via {state.ref}"
        if state.missing_runs < 1:
            if state.last_seen_run_id != ctx.run_id:
                # Not seen this run and not proven gone: a run that judged nothing.
                yield Candidate(
                    rule=META.id,
                    customer_tenant_id=snapshot.tenant_id,
                    subject=subject,
                    title=subject,
                    link_kind=state.kind,
                    link_id=link_id,
                    verdict=Verdict.UNKNOWN,
                )
            continue
        stake = snapshot.stake(state.workload)
        anomaly = ctx.anomaly_for(state.kind, state.source)
        evidence = {
            "holder": state.holder,
            "carried_by": state.ref,
            "source": state.source,
            "workload": state.workload,
            "first_seen": state.first_seen_at.isoformat(),
            "last_seen": state.last_seen_at.isoformat(),
            "missing_runs": state.missing_runs,
            "runs_to_confirm": ctx.disappeared_after_runs,
            "cause": state.cause,
            "right_partner_ids": sorted(ctx.right_ids(state.kind)),
            "stake": stake,
        }
        if state.held_run_id is not None:
            evidence["held_since_run"] = state.held_run_id
            evidence["held_because"] = (
                anomaly.describe() if anomaly is not None else "a source anomaly in that run"
            )
        yield Candidate(
            rule=META.id,
            customer_tenant_id=snapshot.tenant_id,
            subject=subject,
            title=f"{state.kind.upper()} on {state.workload} for {snapshot.name} disappeared: "
            f"{state.cause or 'cause unknown'}",
            link_kind=state.kind,
            link_id=link_id,
            confirmed=state.missing_runs >= ctx.disappeared_after_runs,
            suspect=state.held_run_id is not None,
            remediation=_remedy(state, snapshot.name, ctx),
            evidence=evidence,
            stake=finding_stake(state.workload, stake),
        )


def _right_id(state: LinkState, ctx: AuditContext) -> str:
    """The ID to restore: the one the link carried if it was right, else a right one."""
    right = sorted(ctx.right_ids(state.kind))
    if state.holder in right or not right:
        return state.holder or "<location ID>"
    return right[0]


def _remedy(state: LinkState, customer: str, ctx: AuditContext) -> str:
    """One thing a person can do, chosen by the link kind and the cause the data showed."""
    cause = state.cause or ""
    pid = _right_id(state, ctx)
    if state.kind == LinkKind.PAL:
        return _pal_remedy(state, customer, cause, pid)
    if state.kind == LinkKind.GDAP:
        return (
            f"Send {customer} a new GDAP relationship request in Partner Center (least-"
            "privilege roles, without Global Administrator, auto-extend 180 days) and ask "
            f"its Global Administrator to approve it ({cause or 'relationship gone'})."
        )
    if state.kind in (LinkKind.CSP, LinkKind.INDIRECT_RESELLER):
        return (
            f"Confirm with {customer} (or the indirect provider) whether it moved to "
            "another partner; if it should stay, send a reseller relationship request from "
            "Partner Center."
        )
    if state.kind == LinkKind.DPOR:
        return (
            f"Ask {customer} to set partner ID {pid} as partner of record on "
            f"{state.workload} again (Microsoft 365 admin center or Azure portal)"
            + (f"; {cause}." if "attributed" in cause else ".")
        )
    if state.kind == LinkKind.CPOR:
        return (
            f"File a new CPOR claim for {state.workload} of {customer} with location ID "
            f"{pid} in Partner Center and ask the customer to approve it"
            + (f"; {cause}." if "attributed" in cause else ".")
        )
    return META.remediation


def _pal_remedy(state: LinkState, customer: str, cause: str, pid: str) -> str:
    """A Partner Admin Link: what restores it depends on what happened to its identity."""
    sub = state.workload.split(":", 1)[1] if ":" in state.workload else ""
    where = f"subscription {sub}" if sub else "the subscriptions it managed"
    link = (
        f"then, signed in as {state.ref} in {customer}'s tenant, run "
        f"`az managementpartner create --partner-id {pid}`"
    )
    if "deleted" in cause:
        return (
            f"Re-create the service principal of {state.ref} in {customer}'s tenant "
            f"(admin consent), give it its Azure role on {where} again, {link}."
        )
    if "disabled" in cause:
        return (
            f"Re-enable the service principal {state.ref} in {customer}'s tenant (Entra "
            "admin center > Enterprise applications > Properties > Enabled for users "
            f"to sign in); if its link is gone too, {link.removeprefix('then, ')}."
        )
    if "now links partner ID" in cause:
        return (
            f"Signed in as {state.ref} in {customer}'s tenant, run `az managementpartner "
            f"update --partner-id {pid}` ({cause})."
        )
    if "lost its role" in cause:
        return (
            f"Give {state.ref} an Azure role on {where} again (for example "
            f"`az role assignment create --assignee <its object id> --role Contributor "
            f"--scope /subscriptions/{sub}`); its PAL to {state.holder} then earns there "
            "again. If the subscription was cancelled, acknowledge this finding."
        )
    if "GDAP" in cause:
        return (
            f"Renew the GDAP relationship with {customer} (new request, least-privilege "
            f"roles, auto-extend on), then check that {state.ref} keeps its role and "
            f"PAL {pid}."
        )
    return f"Restore the Partner Admin Link: {link.removeprefix('then, ')}."


RULE = Rule(META, evaluate)
