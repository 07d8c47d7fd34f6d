"""recognition_not_earning: an association of ours that earns nothing, because the metric does
not count its type or the tenant is under a threshold (not close to it); one finding per
association and cause, with the association that would count."""

from __future__ import annotations

from agent.audit.context import AuditContext
from agent.audit.model import Severity
from agent.audit.rules import (
    link_missing,
    recognition_near_threshold,
    recognition_not_earning,
    wrong_partner_id,
)
from connectors.records.attribution import Attribution
from connectors.records.record import Record
from tests.recognition.support import licence

from .conftest import (
    CPOR_ON_M365,
    GLOBAL_ID,
    HQ,
    PARTNER_TENANT,
    SUB,
    TENANT,
    build_snapshot,
    evaluate,
    fingerprints,
    healthy_records,
)

RULE = recognition_not_earning.RULE
ELSEWHERE = "9e000000-0000-4000-8000-000000000005"


def _azure_revenue(usd: float, partner: str = HQ) -> Attribution:
    return Attribution(
        customer_tenant_id=TENANT,
        workload=f"azure:{SUB}",
        attribution_type="PAL",
        partner_id=partner,
        acr_usd=usd,
    )


def _enterprise_csp_only() -> list[Record]:
    return [*healthy_records(cpor_partner=None), *licence("O365_BUSINESS_PREMIUM", 400)]


def test_our_csp_on_a_modern_work_enterprise_tenant_earns_nothing(ctx: AuditContext) -> None:
    """Playbook: CSP counts for Modern Work "(SMB only)". A tenant with 400 paid seats is on
    the enterprise track, where CPOR and DPOR count: our CSP sale earns nothing there."""
    snapshot = build_snapshot(_enterprise_csp_only(), ctx, expectations=())

    [cand] = evaluate(RULE, snapshot, ctx)

    assert cand.link_id == f"association_type_not_eligible|csp|{PARTNER_TENANT}"
    assert cand.severity is Severity.MEDIUM
    assert "Our CSP at Alpine Dairy Co-op earns nothing in Modern Work" in cand.title
    assert "CPOR (OSU), DPOR" in cand.title
    assert cand.evidence["would_count"] == "cpor"
    assert len(cand.evidence["recognition_rules"]) == 3  # net adds, usage growth, deployments
    assert cand.remediation is not None
    assert "file a CPOR claim (OSU)" in cand.remediation and HQ in cand.remediation
    assert str(cand.stake) == "400 seats"


def test_our_pal_far_under_the_azure_floor_is_one_finding_for_the_three_areas(
    ctx: AuditContext,
) -> None:
    records = [*healthy_records(cpor_partner=None), _azure_revenue(300.0)]

    [cand] = evaluate(RULE, build_snapshot(records, ctx), ctx)

    assert cand.link_id == f"below_threshold|pal|{HQ}"
    assert cand.severity is Severity.LOW
    assert cand.evidence["recognition_rules"] == ["azure-net-customer-adds"]
    assert "Data & AI" in cand.title and "Infrastructure" in cand.title
    assert "300.00 USD" in cand.title
    assert cand.remediation is not None and "$1,000" in cand.remediation
    assert str(cand.stake) == "300.00 USD"


def test_close_to_the_floor_is_the_near_threshold_finding_not_this_one(ctx: AuditContext) -> None:
    records = [*healthy_records(cpor_partner=None), _azure_revenue(800.0)]
    snapshot = build_snapshot(records, ctx)

    assert evaluate(RULE, snapshot, ctx) == []
    assert len(evaluate(recognition_near_threshold.RULE, snapshot, ctx)) == 1


def test_a_wrong_id_is_wrong_partner_ids_finding_not_this_one(ctx: AuditContext) -> None:
    records = [
        *healthy_records(pal_partner=GLOBAL_ID, cpor_partner=None),
        _azure_revenue(4000.0, GLOBAL_ID),
    ]
    snapshot = build_snapshot(records, ctx)

    assert evaluate(RULE, snapshot, ctx) == []
    assert len(evaluate(wrong_partner_id.RULE, snapshot, ctx)) == 1


def test_nothing_where_our_links_count_or_another_partner_holds_it(ctx: AuditContext) -> None:
    counting = [*healthy_records(), *licence("O365_BUSINESS_PREMIUM", 60), _azure_revenue(4000.0)]
    theirs = [
        *healthy_records(cpor_partner=None),
        *licence("O365_BUSINESS_PREMIUM", 400, owner=ELSEWHERE),
    ]

    assert evaluate(RULE, build_snapshot(counting, ctx), ctx) == []
    assert evaluate(RULE, build_snapshot(theirs, ctx), ctx) == []


def test_fingerprint_is_stable_as_the_figures_move(ctx: AuditContext) -> None:
    first = build_snapshot([*healthy_records(cpor_partner=None), _azure_revenue(300.0)], ctx)
    later = build_snapshot([*healthy_records(cpor_partner=None), _azure_revenue(420.0)], ctx)

    assert fingerprints(evaluate(RULE, first, ctx), ctx) == fingerprints(
        evaluate(RULE, later, ctx), ctx
    )


def test_a_cpor_on_a_tenant_without_a_paid_seat_is_no_finding(ctx: AuditContext) -> None:
    """Our CPOR shows in the reports, but the tenant has no paid seat of Modern Work at all:
    nothing of the workload is there to be under a threshold."""
    assert evaluate(RULE, build_snapshot(healthy_records(), ctx), ctx) == []


def test_where_the_file_expects_the_association_that_would_count_link_missing_names_it(
    ctx: AuditContext,
) -> None:
    """One cause, one finding: the file expects our CPOR on m365 at an enterprise tenant; its
    absence is link_missing's finding, not a second one here."""
    snapshot = build_snapshot(_enterprise_csp_only(), ctx, expectations=CPOR_ON_M365)
    unexpected = build_snapshot(_enterprise_csp_only(), ctx, expectations=())

    assert evaluate(RULE, snapshot, ctx) == []
    assert [c.link_id for c in evaluate(link_missing.RULE, snapshot, ctx)] == ["m365"]
    assert len(evaluate(RULE, unexpected, ctx)) == 1
