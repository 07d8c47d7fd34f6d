"""The Business Applications rules, each from its source's own example."""

from __future__ import annotations

from agent.recognition.credit import Reason
from agent.recognition.model import Association
from tests.recognition.support import (
    HQ,
    OTHER_ID,
    OTHER_TENANT,
    book,
    licence,
    line,
    lines,
    pal,
    report,
    resold,
)

D365 = "DYN365_ENTERPRISE_SALES"


def test_business_apps_net_customer_adds_count_csp_dpor_and_cpor_not_pal() -> None:
    """ "Eligible attributions for Microsoft Dynamics 365 include Claiming Partner of Record
    (CPOR) RevRec, CPOR OSA, CPOR RevRec Performance, CSP Tiers 1 and 2, and Digital Partner
    of Record (DPOR).\""""
    rule = book().rule("business-apps-net-customer-adds")

    ours = line(lines(licence(D365, 20)), rule.id)
    theirs = line(lines(licence(D365, 20, owner=OTHER_TENANT)), rule.id)
    pal_only = line(lines(licence(D365, 20, owner=None), pal(HQ)), rule.id)

    assert (ours.counts_for_us, ours.reason) == (True, Reason.COUNTS)
    assert (theirs.counts_for_us, theirs.reason) == (False, Reason.OTHER_TRANSACTING_PARTNER)
    assert (pal_only.counts_for_us, pal_only.reason) == (False, Reason.TYPE_NOT_ELIGIBLE)
    assert pal_only.remedy is not None and pal_only.remedy.kind is Association.CPOR


def test_dynamics_usage_growth_counts_our_dpor() -> None:
    """ "Eligible attributions for Microsoft Dynamics 365 (except Customer Insights) include
    CPOR OSU, CSP Tier1, CSP Tier2, Digital Partner of Record (DPOR)\""""
    rule = book().rule("business-apps-dynamics-usage-growth")

    found = line(lines(licence(D365, 20, owner=None), report("DPOR", HQ, "business_apps")), rule.id)

    assert (found.counts_for_us, found.reason) == (True, Reason.COUNTS)
    assert found.unchecked


def test_dynamics_deployments_count_csp_tier_2_of_ours_not_another_reseller() -> None:
    """Same source: "... CPOR OSU, CSP Tier1, CSP Tier2, Digital Partner of Record (DPOR)":
    an indirect reseller (tier 2) earns it for the licences it resells."""
    rule = book().rule("business-apps-dynamics-deployments")

    ours = line(lines(resold(D365, 20, HQ)), rule.id)
    reseller = line(lines(resold(D365, 20, OTHER_ID)), rule.id)

    assert (ours.counts_for_us, ours.reason) == (True, Reason.COUNTS)
    assert ours.holder is not None and ours.holder.variant == "tier2"
    assert (reseller.counts_for_us, reseller.reason) == (False, Reason.OTHER_TRANSACTING_PARTNER)
    assert reseller.holder is not None and reseller.holder.holder == OTHER_ID


def test_power_platform_usage_growth_counts_only_pal() -> None:
    """ "Eligible attribution for Power Platform & Customer Insights include Partner Admin
    Link (PAL)": our CSP sale of Power Apps does not count here."""
    rule = book().rule("business-apps-power-platform-usage-growth")

    found = line(lines(licence("POWERAPPS_PER_USER", 25)), rule.id)

    assert (found.counts_for_us, found.reason) == (False, Reason.TYPE_NOT_ELIGIBLE)
    assert found.remedy is not None and found.remedy.kind is Association.PAL
    assert HQ in found.remedy.words


def test_power_platform_deployments_follow_the_pal_of_the_identity() -> None:
    """Same source, "Partner Admin Link (PAL)": our PAL counts; a PAL naming another partner
    ID holds it for that partner."""
    rule = book().rule("business-apps-power-platform-deployments")

    ours = line(lines(licence("POWERAPPS_PER_USER", 25, owner=None), pal(HQ)), rule.id)
    theirs = line(lines(licence("POWERAPPS_PER_USER", 25, owner=None), pal(OTHER_ID)), rule.id)

    assert (ours.counts_for_us, ours.reason) == (True, Reason.COUNTS)
    assert (theirs.counts_for_us, theirs.reason) == (False, Reason.OTHER_PARTNER_OF_RECORD)
