"""link_held_by_other: where we expect our link, Microsoft credits another partner."""

from __future__ import annotations

import dataclasses

from agent.audit.context import AuditContext
from agent.audit.rules import link_held_by_other
from connectors.records.attribution import Attribution
from connectors.records.links import LinkKind
from connectors.records.pal import PalLink
from connectors.records.scope import Source

from .conftest import (
    APP,
    GLOBAL_ID,
    HQ,
    OTHER,
    SUB,
    TENANT,
    build_snapshot,
    evaluate,
    fingerprints,
    healthy_records,
)

RULE = link_held_by_other.RULE


def _dpor(partner_id: str) -> Attribution:
    return Attribution(
        customer_tenant_id=TENANT,
        workload="m365",
        attribution_type="DPOR",
        partner_id=partner_id,
        monthly_active_users=120,
    )


def test_healthy_customer_has_no_link_held_by_another_partner(ctx: AuditContext) -> None:
    assert evaluate(RULE, build_snapshot(healthy_records(), ctx), ctx) == []


def test_dpor_of_another_partner_where_we_expect_our_cpor_fires(ctx: AuditContext) -> None:
    records = [*healthy_records(cpor_partner=None), _dpor(OTHER)]
    snapshot = build_snapshot(records, ctx)

    [cand] = evaluate(RULE, snapshot, ctx)

    assert cand.customer_tenant_id == TENANT
    assert cand.subject == f"dpor on m365 held by {OTHER}"
    assert cand.link_kind == LinkKind.DPOR
    assert cand.link_id == f"m365|{OTHER}"
    assert cand.evidence["holder"] == OTHER
    assert cand.evidence["source"] == Source.INSIGHTS.value
    assert cand.evidence["expected"] == LinkKind.CPOR
    assert cand.evidence["expected_from"] == "file"
    assert cand.evidence["stake"] == {"mau": 120}
    assert cand.evidence["right_partner_ids"] == sorted(ctx.right_ids("cpor"))
    assert cand.value_at_stake == 120.0
    assert cand.remediation is not None
    assert cand.remediation.startswith(
        f"DPOR on m365 names partner ID {OTHER}. Agree with "
        "Alpine Dairy Co-op that you deliver m365, then file a "
        "CPOR claim with location ID"
    )


def test_our_identity_linked_to_another_partner_fires_on_the_subscription(
    ctx: AuditContext,
) -> None:
    records = [r for r in healthy_records() if not isinstance(r, PalLink)]
    records.append(
        PalLink(customer_tenant_id=TENANT, identity=APP, partner_id=OTHER, subscriptions=(SUB,))
    )
    snapshot = build_snapshot(records, ctx)

    [cand] = evaluate(RULE, snapshot, ctx)

    assert (cand.link_kind, cand.link_id) == (LinkKind.PAL, f"azure:{SUB}|{OTHER}")
    assert cand.evidence["source"] == Source.ARM_PAL.value
    assert cand.evidence["expected_from"] == "default"
    assert cand.evidence["carried_by"] == APP
    assert cand.remediation is not None
    assert f"(via {APP})" in cand.remediation
    assert "`az managementpartner create --partner-id" in cand.remediation


def test_another_partners_dpor_does_not_fire_while_we_hold_our_cpor(ctx: AuditContext) -> None:
    # Our CPOR is the link we expect; a DPOR of someone else beside it takes nothing from us.
    records = [*healthy_records(cpor_partner=HQ), _dpor(OTHER)]

    assert evaluate(RULE, build_snapshot(records, ctx), ctx) == []


def test_our_global_id_is_not_another_partner(ctx: AuditContext) -> None:
    # Naming the global ID is wrong_partner_id's business, not a link held by someone else.
    records = [*healthy_records(cpor_partner=None), _dpor(GLOBAL_ID)]

    assert evaluate(RULE, build_snapshot(records, ctx), ctx) == []


def test_nothing_fires_where_no_link_of_ours_is_expected(ctx: AuditContext) -> None:
    records = [*healthy_records(cpor_partner=None), _dpor(OTHER)]
    ctx = dataclasses.replace(ctx, expect_pal_on_azure=False)
    snapshot = build_snapshot(records, ctx, expectations=())

    assert evaluate(RULE, snapshot, ctx) == []


def test_fingerprint_is_stable_across_two_evaluations(ctx: AuditContext) -> None:
    records = [*healthy_records(cpor_partner=None), _dpor(OTHER)]

    first = fingerprints(evaluate(RULE, build_snapshot(records, ctx), ctx), ctx)
    again = fingerprints(evaluate(RULE, build_snapshot(records, ctx), ctx), ctx)

    assert first == again
    assert len(first) == 1


def test_rule_is_evaluated_only_after_a_complete_read_of_the_insight_reports() -> None:
    assert RULE.meta.id == "link_held_by_other"
    assert RULE.meta.required_sources == (Source.INSIGHTS,)
