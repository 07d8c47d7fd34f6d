"""cannot_verify: a source could not be read for a scope this run: a blind spot, reported once
per cause, never a loss."""

from __future__ import annotations

from agent.audit.context import AuditContext
from agent.audit.model import Severity
from agent.audit.rules import cannot_verify
from agent.audit.snapshot import PARTNER_SCOPED
from connectors.records.scope import Source

from .conftest import (
    APP,
    CARRIER,
    TENANT,
    all_complete,
    build_snapshot,
    evaluate,
    fingerprints,
    healthy_records,
    key,
    make_context,
    with_status,
)

RULE = cannot_verify.RULE
TOKEN_REFUSED = "token request refused [AADSTS7000215] correlation id 1234"
PAL_FORBIDDEN = f"arm.pal for {TENANT} failed (HTTP 403, AuthorizationFailed)"
SUBS_UNAVAILABLE = f"arm.subscriptions for {TENANT} failed (HTTP 503)"
INSIGHTS_DOWN = "insights.attribution for partner failed (HTTP 500)"


def _partner_statuses() -> dict[tuple[str, str], str]:
    return {key(source): "complete" for source in PARTNER_SCOPED}


def test_every_source_read_completely_gives_nothing(ctx: AuditContext) -> None:
    customer = build_snapshot(healthy_records(), ctx)
    partner = build_snapshot([], ctx, tenant="", statuses=_partner_statuses(), expectations=())

    assert evaluate(RULE, customer, ctx) == []
    assert evaluate(RULE, partner, ctx) == []


def test_failures_are_grouped_per_cause_with_the_error_text_in_evidence() -> None:
    ctx = make_context(identities=(APP, CARRIER))
    failed = {
        key(Source.ARM_PAL, CARRIER): "failed",
        key(Source.GRAPH_SKUS): "failed",
        key(Source.ARM_SUBSCRIPTIONS): "failed",
    }
    errors = {
        key(Source.ARM_PAL, CARRIER): TOKEN_REFUSED,
        key(Source.GRAPH_SKUS): TOKEN_REFUSED,
        key(Source.ARM_SUBSCRIPTIONS): SUBS_UNAVAILABLE,
    }
    statuses = with_status(all_complete(identities=(APP, CARRIER)), failed)
    snapshot = build_snapshot(healthy_records(), ctx, statuses=statuses, errors=errors)

    candidates = {c.link_id: c for c in evaluate(RULE, snapshot, ctx)}

    assert set(candidates) == {"AADSTS7000215", "HTTP 503"}
    token = candidates["AADSTS7000215"]
    assert token.customer_tenant_id == TENANT
    assert token.link_kind is None
    assert token.subject == "AADSTS7000215 for Alpine Dairy Co-op"
    assert token.evidence["cause"] == "AADSTS7000215"
    assert token.evidence["sources"] == [f"{Source.ARM_PAL} as {CARRIER}", str(Source.GRAPH_SKUS)]
    assert {f["error"] for f in token.evidence["failures"]} == {TOKEN_REFUSED}
    assert {f["scope"] for f in token.evidence["failures"]} == {f"{TENANT}/{CARRIER}", TENANT}
    assert TOKEN_REFUSED in token.title
    assert token.severity is None  # the rule's own (medium) severity for one customer
    assert token.remediation == (
        f"The client secret the agent holds for {CARRIER} and {APP} "
        "is wrong: "
        "create a new credential (a certificate is preferred) in its "
        "app registration and update the config."
    )
    http = candidates["HTTP 503"]
    assert http.evidence["failures"] == [
        {
            "source": Source.ARM_SUBSCRIPTIONS.value,
            "scope": TENANT,
            "status": "failed",
            "error": SUBS_UNAVAILABLE,
        }
    ]


def test_a_customer_snapshot_ignores_partner_scope_failures(ctx: AuditContext) -> None:
    statuses = with_status(
        all_complete(), {key(Source.INSIGHTS): "failed", key(Source.ARM_PAL, APP): "failed"}
    )
    errors = {key(Source.INSIGHTS): INSIGHTS_DOWN, key(Source.ARM_PAL, APP): PAL_FORBIDDEN}
    snapshot = build_snapshot(healthy_records(), ctx, statuses=statuses, errors=errors)

    [cand] = evaluate(RULE, snapshot, ctx)

    assert cand.link_id == "HTTP 403"
    assert [f["source"] for f in cand.evidence["failures"]] == [Source.ARM_PAL.value]


def test_partner_scope_failures_are_reported_on_the_partner_level_snapshot(
    ctx: AuditContext,
) -> None:
    statuses = with_status(_partner_statuses(), {key(Source.INSIGHTS): "failed"})
    errors = {key(Source.INSIGHTS): INSIGHTS_DOWN}
    snapshot = build_snapshot([], ctx, tenant="", statuses=statuses, errors=errors, expectations=())

    [cand] = evaluate(RULE, snapshot, ctx)

    assert cand.customer_tenant_id is None
    assert cand.subject == "HTTP 500 for the partner tenant"
    assert cand.severity is Severity.HIGH
    assert cand.evidence["failures"] == [
        {
            "source": Source.INSIGHTS.value,
            "scope": "partner",
            "status": "failed",
            "error": INSIGHTS_DOWN,
        }
    ]


def test_partner_level_snapshot_ignores_customer_scope_failures(ctx: AuditContext) -> None:
    statuses = {**_partner_statuses(), key(Source.ARM_PAL, APP): "failed"}
    snapshot = build_snapshot(
        [],
        ctx,
        tenant="",
        statuses=statuses,
        errors={key(Source.ARM_PAL, APP): PAL_FORBIDDEN},
        expectations=(),
    )

    assert evaluate(RULE, snapshot, ctx) == []


def test_customer_not_reached_in_time_is_reported_as_not_attempted(ctx: AuditContext) -> None:
    statuses = with_status(all_complete(), {key(Source.GRAPH_USAGE): "not_attempted"})
    errors = {key(Source.GRAPH_USAGE): "the run's time budget was spent"}
    snapshot = build_snapshot(healthy_records(), ctx, statuses=statuses, errors=errors)

    [cand] = evaluate(RULE, snapshot, ctx)

    assert cand.link_id == "not_attempted"
    assert cand.evidence["failures"][0]["error"] == "the run's time budget was spent"


def test_fingerprint_is_stable_across_two_evaluations(ctx: AuditContext) -> None:
    statuses = with_status(all_complete(), {key(Source.ARM_PAL, APP): "failed"})
    errors = {key(Source.ARM_PAL, APP): PAL_FORBIDDEN}

    def run() -> list[str]:
        snapshot = build_snapshot(healthy_records(), ctx, statuses=statuses, errors=errors)
        return fingerprints(evaluate(RULE, snapshot, ctx), ctx)

    assert run() == run()
    assert len(run()) == 1


def test_rule_has_no_source_gate_because_it_reports_failed_sources() -> None:
    assert RULE.meta.id == "cannot_verify"
    assert RULE.meta.required_sources == ()
