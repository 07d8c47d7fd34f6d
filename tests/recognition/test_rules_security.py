"""The Security rules (Microsoft 365 and Azure parts), each from its source's own example."""

from __future__ import annotations

from agent.recognition.credit import Reason
from agent.recognition.model import Association
from connectors.records.azure import AzureSubscription
from tests.recognition.support import HQ, SUB, TENANT, book, licence, line, lines, pal, report


def test_security_m365_net_customer_adds_need_25_paid_seats() -> None:
    """CRN: "must go from zero paid seats the prior month to 25 paid seats in the current
    month" (the month before is not in one snapshot: shown, not judged)."""
    rule = book().rule("security-net-customer-adds-m365")

    at = line(
        lines(licence("AAD_PREMIUM", 25, owner=None), report("CPOR", HQ, "security")), rule.id
    )
    under = line(
        lines(licence("AAD_PREMIUM", 24, owner=None), report("CPOR", HQ, "security")), rule.id
    )

    assert (at.counts_for_us, at.reason) == (True, Reason.COUNTS)
    assert at.unchecked == ("zero paid seats the month before",)
    assert (under.counts_for_us, under.reason) == (False, Reason.BELOW_THRESHOLD)


def test_security_azure_net_customer_adds_cannot_be_verified_without_per_service_revenue() -> None:
    """CRN: "a monthly average of at least US$100 in consumed revenue for the trailing 12
    months" of Azure security: the snapshot has Azure revenue per subscription, not per
    service, so whether the customer uses Sentinel or Defender for Cloud cannot be seen, even
    with our PAL on the subscription; the stake is no data, never 0."""
    rule = book().rule("security-net-customer-adds-azure")
    assert [t.value for t in rule.thresholds] == [100]

    found = line(
        lines(AzureSubscription(customer_tenant_id=TENANT, subscription_id=SUB), pal(HQ, SUB)),
        rule.id,
    )

    assert (found.counts_for_us, found.reason) == (None, Reason.CANNOT_VERIFY)
    assert "Microsoft Sentinel" in found.words and "not split by service" in found.words
    assert found.holder is not None and found.holder.holder == HQ
    assert str(found.stake) == "no data" and found.stake.currency == "USD"


def test_security_usage_growth_counts_the_microsoft_365_part_through_cpor() -> None:
    """Learn: "Calculations for Azure and Microsoft 365 are completed individually and then
    totaled together"; playbook: CPOR counts for Security."""
    rule = book().rule("security-usage-growth")

    found = line(lines(licence("SPB", 40, owner=None), report("CPOR", HQ, "security")), rule.id)

    assert (found.counts_for_us, found.reason) == (True, Reason.COUNTS)


def test_security_deployments_do_not_count_our_csp() -> None:
    """Playbook: Security counts CPOR and PAL; a CSP sale of ours is not one of them."""
    rule = book().rule("security-deployments")
    assert set(rule.kinds) == {Association.CPOR, Association.PAL}

    found = line(lines(licence("SPB", 40)), rule.id)

    assert (found.counts_for_us, found.reason) == (False, Reason.TYPE_NOT_ELIGIBLE)
    assert found.remedy is not None and found.remedy.kind is Association.CPOR
