"""recognition_near_threshold: an association of ours the metric counts, on a tenant just under
its floor (a quarter of the threshold or less): what is missing, and that our link then counts."""

from __future__ import annotations

import pytest

from agent.audit.context import AuditContext
from agent.audit.rules import recognition_near_threshold, recognition_not_earning
from connectors.records.attribution import Attribution
from tests.recognition.support import licence

from .conftest import HQ, SUB, TENANT, build_snapshot, evaluate, healthy_records

RULE = recognition_near_threshold.RULE
ELSEWHERE = "9e000000-0000-4000-8000-000000000005"
MW_SMB = "modern-work-net-customer-adds-smb"


def test_a_modern_work_tenant_at_9_paid_seats_is_2_seats_short(ctx: AuditContext) -> None:
    """ "Each customer tenant having atleast 1 workload with paid seats between 11 to 300 is
    counted": at 9 paid seats our CSP sale earns nothing until two more seats are sold."""
    records = [*healthy_records(cpor_partner=None), *licence("O365_BUSINESS_PREMIUM", 9)]

    [cand] = evaluate(RULE, build_snapshot(records, ctx), ctx)

    assert cand.link_id == MW_SMB
    assert cand.title.startswith("Alpine Dairy Co-op is 2 paid seat(s) short of Modern Work")
    assert "9 paid seats for Exchange Online" in cand.title
    assert (cand.evidence["figure"], cand.evidence["missing"]) == (9, 2)
    assert cand.evidence["would_count"] == "csp"
    assert cand.remediation is not None
    assert cand.remediation.startswith("2 paid seat(s) more and our CSP counts")
    assert str(cand.stake) == "9 seats"


@pytest.mark.parametrize(("seats", "near"), [(11, False), (10, True), (9, True), (8, False)])
def test_close_means_a_quarter_of_the_threshold_or_less(
    seats: int, near: bool, ctx: AuditContext
) -> None:
    snapshot = build_snapshot(
        [*healthy_records(cpor_partner=None), *licence("O365_BUSINESS_PREMIUM", seats)], ctx
    )
    further = [
        c
        for c in evaluate(recognition_not_earning.RULE, snapshot, ctx)
        if MW_SMB in c.evidence["recognition_rules"]
    ]

    assert bool(evaluate(RULE, snapshot, ctx)) is near
    assert bool(further) is (seats == 8), "one cause, one finding: far under is not_earning's"


def test_an_azure_customer_at_800_dollars_is_one_finding_for_the_three_areas(
    ctx: AuditContext,
) -> None:
    records = [
        *healthy_records(cpor_partner=None),
        Attribution(
            customer_tenant_id=TENANT,
            workload=f"azure:{SUB}",
            attribution_type="PAL",
            partner_id=HQ,
            acr_usd=800.0,
        ),
    ]

    [cand] = evaluate(RULE, build_snapshot(records, ctx), ctx)

    assert cand.link_id == "azure-net-customer-adds"
    assert cand.title.startswith("Alpine Dairy Co-op is 200.00 USD short of")
    assert len(cand.evidence["solution_areas"]) == 3
    assert str(cand.stake) == "800.00 USD"


def test_not_when_the_licences_are_another_partners(ctx: AuditContext) -> None:
    records = [
        *healthy_records(cpor_partner=None),
        *licence("O365_BUSINESS_PREMIUM", 9, owner=ELSEWHERE),
    ]

    assert evaluate(RULE, build_snapshot(records, ctx), ctx) == []
