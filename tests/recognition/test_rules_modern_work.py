"""The Modern Work rules (SMB and enterprise tracks), each from its source's own example."""

from __future__ import annotations

import pytest

from agent.recognition.credit import Reason
from agent.recognition.model import Association
from agent.recognition.stake import Unit
from tests.recognition.support import HQ, active, book, licence, line, lines, report

BUSINESS_STANDARD = "O365_BUSINESS_PREMIUM"


@pytest.mark.parametrize(
    ("seats", "counts", "reason"),
    [
        (10, False, Reason.BELOW_THRESHOLD),
        (11, True, Reason.COUNTS),
        (300, True, Reason.COUNTS),
    ],
)
def test_modern_work_smb_net_customer_adds_count_11_to_300_paid_seats(
    seats: int, counts: bool, reason: Reason
) -> None:
    """ "Each customer tenant having atleast 1 workload with paid seats between 11 to 300 is
    counted to be an eligible Tenant for SMB track." CRN: "more than 10 and at most 300"."""
    rule = book().rule("modern-work-net-customer-adds-smb")

    found = line(lines(licence(BUSINESS_STANDARD, seats)), rule.id)

    assert (found.counts_for_us, found.reason) == (counts, reason), found.words


def test_modern_work_smb_rules_are_not_judged_over_300_seats() -> None:
    """CRN: "If they are more than 300, then the customer is considered an enterprise": at 301
    paid seats the tenant is measured on the enterprise track, not the SMB one."""
    found = lines(licence(BUSINESS_STANDARD, 301))

    assert not [x for x in found if x.rule_id == "modern-work-net-customer-adds-smb"]
    assert line(found, "modern-work-net-customer-adds-enterprise").track == "enterprise"


@pytest.mark.parametrize(("seats", "judged"), [(300, False), (301, True)])
def test_modern_work_enterprise_net_customer_adds_need_more_than_300_seats(
    seats: int, judged: bool
) -> None:
    """CRN: "Customers count if their paid available units for at least one eligible workload
    is more than 300"; the playbook counts CPOR for both tracks. At 300 the tenant is SMB."""
    rule = book().rule("modern-work-net-customer-adds-enterprise")

    found = lines(licence(BUSINESS_STANDARD, seats, owner=None), report("CPOR", HQ))
    mine = [x for x in found if x.rule_id == rule.id]

    assert bool(mine) is judged
    if judged:
        assert (mine[0].counts_for_us, mine[0].reason) == (True, Reason.COUNTS)


def test_modern_work_smb_usage_growth_counts_our_csp_on_active_users() -> None:
    """Playbook: CSP counts for Modern Work "(SMB only)"; the forum: "number of active USERS
    across all tenants need to increase compared to year before (MAU growth)"."""
    rule = book().rule("modern-work-usage-growth-smb")

    found = line(lines(licence(BUSINESS_STANDARD, 60), active(exchange=55, teams=48)), rule.id)

    assert (found.counts_for_us, found.reason) == (True, Reason.COUNTS)
    assert found.stake.unit is Unit.USERS and found.stake.value == 55
    assert found.unchecked == ("more monthly active users than a year before",)


def test_modern_work_enterprise_usage_growth_counts_dpor_not_csp() -> None:
    """Playbook: DPOR counts for Modern Work "(Enterprise only)", CSP "(SMB only)"."""
    rule = book().rule("modern-work-usage-growth-enterprise")
    assert Association.CSP not in rule.kinds

    dpor = line(lines(licence(BUSINESS_STANDARD, 500, owner=None), report("DPOR", HQ)), rule.id)
    csp = line(lines(licence(BUSINESS_STANDARD, 500)), rule.id)

    assert (dpor.counts_for_us, dpor.reason) == (True, Reason.COUNTS)
    assert (csp.counts_for_us, csp.reason) == (False, Reason.TYPE_NOT_ELIGIBLE)


@pytest.mark.parametrize(
    ("active_users", "counts"), [(9, True), (8, False)], ids=["42.8%", "38.09%"]
)
def test_modern_work_smb_deployments_need_40_percent_active(
    active_users: int, counts: bool
) -> None:
    """Forum: "this result must be greater than or equal to 40 percent"; its example: "Active
    usage is at 9 ... Number of licenses is 21 ... 42,8%", a year later 8 of 21, "38,09%"."""
    rule = book().rule("modern-work-deployments-smb")

    found = line(lines(licence(BUSINESS_STANDARD, 21), active(exchange=active_users)), rule.id)

    assert found.counts_for_us is counts, found.words


def test_modern_work_enterprise_deployments_count_a_workload_at_40_percent() -> None:
    """Same forum rule, enterprise track through our CPOR: 160 active of 400 paid is 40%."""
    rule = book().rule("modern-work-deployments-enterprise")

    found = line(
        lines(licence(BUSINESS_STANDARD, 400, owner=None), report("CPOR", HQ), active(teams=160)),
        rule.id,
    )

    assert (found.counts_for_us, found.reason) == (True, Reason.COUNTS)
