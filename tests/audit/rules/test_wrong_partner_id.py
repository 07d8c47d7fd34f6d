"""wrong_partner_id: our link names our global ID, or a location ID not meant for that link."""

from __future__ import annotations

from agent.audit.context import AuditContext
from agent.audit.rules import wrong_partner_id
from connectors.records.attribution import Attribution
from connectors.records.links import LinkKind
from connectors.records.pal import PalLink
from connectors.records.scope import Source

from .conftest import (
    APP,
    AZURE_PRACTICE,
    GLOBAL_ID,
    HQ,
    OTHER,
    SUB,
    TENANT,
    TRAINING,
    build_snapshot,
    evaluate,
    fingerprints,
    healthy_records,
)

RULE = wrong_partner_id.RULE


def _cpor(partner_id: str) -> Attribution:
    return Attribution(
        customer_tenant_id=TENANT, workload="m365", attribution_type="CPOR", partner_id=partner_id
    )


def test_healthy_customer_names_the_right_ids(ctx: AuditContext) -> None:
    assert evaluate(RULE, build_snapshot(healthy_records(), ctx), ctx) == []


def test_pal_naming_the_global_id_fires(ctx: AuditContext) -> None:
    snapshot = build_snapshot(healthy_records(pal_partner=GLOBAL_ID), ctx)

    [cand] = evaluate(RULE, snapshot, ctx)

    assert cand.customer_tenant_id == TENANT
    assert cand.subject == f"pal on azure:{SUB} via {APP} names {GLOBAL_ID}"
    assert cand.link_kind == LinkKind.PAL
    assert cand.link_id == f"pal|{APP}"
    assert "the global partner ID" in cand.title
    assert cand.evidence["named"] == GLOBAL_ID
    assert cand.evidence["right_partner_ids"] == sorted({HQ, AZURE_PRACTICE})
    assert cand.evidence["carried_by"] == APP
    assert cand.evidence["source"] == Source.ARM_PAL.value
    assert cand.remediation is not None
    assert cand.remediation.endswith(f"Right ID(s): {HQ}, {AZURE_PRACTICE}.")


def test_cpor_naming_a_location_meant_only_for_pal_fires(ctx: AuditContext) -> None:
    snapshot = build_snapshot(healthy_records(cpor_partner=AZURE_PRACTICE), ctx)

    [cand] = evaluate(RULE, snapshot, ctx)

    assert (cand.link_kind, cand.link_id) == (LinkKind.CPOR, "m365|microsoft")
    assert "a location ID not meant for CPOR" in cand.title
    assert cand.evidence["named"] == AZURE_PRACTICE
    assert cand.evidence["right_partner_ids"] == sorted({HQ, TRAINING})


def test_pal_naming_a_location_meant_only_for_cpor_fires(ctx: AuditContext) -> None:
    snapshot = build_snapshot(healthy_records(pal_partner=TRAINING), ctx)

    [cand] = evaluate(RULE, snapshot, ctx)

    assert cand.link_kind == LinkKind.PAL
    assert "a location ID not meant for PAL" in cand.title


def test_any_location_meant_for_the_kind_is_right(ctx: AuditContext) -> None:
    records = healthy_records(pal_partner=AZURE_PRACTICE, cpor_partner=TRAINING)

    assert evaluate(RULE, build_snapshot(records, ctx), ctx) == []


def test_another_partners_id_is_not_a_wrong_id_of_ours(ctx: AuditContext) -> None:
    # That is link_held_by_other's business.
    records = [r for r in healthy_records(cpor_partner=OTHER) if not isinstance(r, PalLink)]
    records.append(
        PalLink(customer_tenant_id=TENANT, identity=APP, partner_id=OTHER, subscriptions=(SUB,))
    )

    assert evaluate(RULE, build_snapshot(records, ctx), ctx) == []


def test_fingerprint_is_stable_across_two_evaluations(ctx: AuditContext) -> None:
    records = healthy_records(pal_partner=GLOBAL_ID)

    first = fingerprints(evaluate(RULE, build_snapshot(records, ctx), ctx), ctx)
    again = fingerprints(evaluate(RULE, build_snapshot(records, ctx), ctx), ctx)

    assert first == again
    assert len(first) == 1


def test_rule_judges_only_links_observed_so_needs_no_source_gate() -> None:
    assert RULE.meta.id == "wrong_partner_id"
    assert RULE.meta.required_sources == ()


def test_the_reports_row_of_the_same_pal_adds_no_second_finding(ctx: AuditContext) -> None:
    """One cause, one finding: our app's PAL names the global ID, and the insight reports
    show that PAL on the same subscription."""
    records = healthy_records(pal_partner=GLOBAL_ID)
    records.append(
        Attribution(
            customer_tenant_id=TENANT,
            workload=f"azure:{SUB}",
            attribution_type="PAL",
            partner_id=GLOBAL_ID,
            acr_usd=1300.0,
        )
    )

    [cand] = evaluate(RULE, build_snapshot(records, ctx), ctx)

    assert (cand.link_id, cand.evidence["carried_by"]) == (f"pal|{APP}", APP)
    assert str(cand.stake) == "1,300.00 USD"


def test_one_identity_linking_the_global_id_on_two_subscriptions_is_one_finding(
    ctx: AuditContext,
) -> None:
    other_sub = "50000001-0000-4000-8000-000000000009"
    records = [r for r in healthy_records() if not isinstance(r, PalLink)]
    records.append(
        PalLink(
            customer_tenant_id=TENANT,
            identity=APP,
            partner_id=GLOBAL_ID,
            subscriptions=(SUB, other_sub),
        )
    )

    [cand] = evaluate(RULE, build_snapshot(records, ctx), ctx)

    assert cand.evidence["workloads"] == sorted([f"azure:{SUB}", f"azure:{other_sub}"])
    assert "2 subscriptions" in cand.title


def test_a_reports_row_no_identity_of_ours_carries_is_its_own_finding(ctx: AuditContext) -> None:
    other_sub = "50000001-0000-4000-8000-000000000009"
    records = healthy_records(pal_partner=GLOBAL_ID)
    records.append(
        Attribution(
            customer_tenant_id=TENANT,
            workload=f"azure:{other_sub}",
            attribution_type="PAL",
            partner_id=GLOBAL_ID,
        )
    )

    found = evaluate(RULE, build_snapshot(records, ctx), ctx)

    assert sorted(c.link_id for c in found) == sorted(
        [f"pal|{APP}", f"azure:{other_sub}|microsoft"]
    )
