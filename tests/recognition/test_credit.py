"""The credit view over small snapshots: who holds the recognition, whether it counts for us,
why not in words, the stake in its unit, and the association that would count."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import pytest

from agent.recognition.credit import Reason, evaluate
from agent.recognition.holdings import Whose
from agent.recognition.model import Association
from agent.recognition.stake import Unit
from connectors.records.azure import AzureSubscription
from connectors.records.record import Record
from connectors.records.scope import Source, scope_for
from tests.recognition.support import (
    APP,
    GLOBAL_ID,
    HQ,
    OTHER_ID,
    OTHER_TENANT,
    SUB,
    TENANT,
    US,
    active,
    azure,
    book,
    licence,
    line,
    lines,
    pal,
    report,
    snapshot,
)

MW_SMB = "modern-work-net-customer-adds-smb"
MW_ENT = "modern-work-net-customer-adds-enterprise"


@dataclass(frozen=True)
class Case:
    records: tuple[Record | list[Record], ...]
    rule: str
    counts: bool | None
    reason: Reason
    holder_kind: Association | None = None
    whose: Whose | None = None
    stake: str = ""
    remedy: Association | None = None
    words: tuple[str, ...] = ()
    failed: tuple[Source, ...] = ()
    reports: bool = True
    area: str | None = None
    unchecked: tuple[str, ...] = field(default_factory=tuple)


CASES = {
    "our CSP licences count for Modern Work SMB": Case(
        (licence("O365_BUSINESS_PREMIUM", 50),),
        MW_SMB,
        True,
        Reason.COUNTS,
        Association.CSP,
        Whose.OURS,
        "50 seats",
        words=("sold by us through CSP",),
    ),
    "another partner's tenant owns the licences: held by it, without insight reports": Case(
        (licence("O365_BUSINESS_PREMIUM", 120, owner=OTHER_TENANT),),
        MW_SMB,
        False,
        Reason.OTHER_TRANSACTING_PARTNER,
        Association.CSP,
        Whose.OTHER,
        "120 seats",
        Association.CPOR,
        words=(OTHER_TENANT, "transacting partner", "O365_BUSINESS_PREMIUM"),
        reports=False,
    ),
    "DPOR to another partner ID on an enterprise tenant": Case(
        (licence("ENTERPRISEPACK", 400, owner=None), report("DPOR", OTHER_ID)),
        MW_ENT,
        False,
        Reason.OTHER_PARTNER_OF_RECORD,
        Association.DPOR,
        Whose.OTHER,
        "400 seats",
        Association.CPOR,
        words=("DPOR names another partner ID", OTHER_ID),
    ),
    "our PAL missing on the customer's own Azure subscription": Case(
        (AzureSubscription(customer_tenant_id=TENANT, subscription_id=SUB), pal(None, SUB)),
        "azure-net-customer-adds",
        False,
        Reason.PAL_MISSING,
        stake="no data",
        remedy=Association.PAL,
        words=("carries no Partner Admin Link",),
        area="infrastructure",
    ),
    "our PAL present counts for Power Platform usage": Case(
        (licence("POWERAPPS_PER_USER", 30), pal(HQ)),
        "business-apps-power-platform-usage-growth",
        True,
        Reason.COUNTS,
        Association.PAL,
        Whose.OURS,
        "30 seats",
        unchecked=("growth of the workload's usage over the year",),
    ),
    "our DPOR does not count for Power Platform usage (PAL only)": Case(
        (licence("POWERAPPS_PER_USER", 30, owner=None), report("DPOR", HQ, "business_apps")),
        "business-apps-power-platform-usage-growth",
        False,
        Reason.TYPE_NOT_ELIGIBLE,
        Association.DPOR,
        Whose.OURS,
        remedy=Association.PAL,
        words=("does not count for this metric", "PAL"),
    ),
    "Modern Work SMB at 9 paid seats is under the threshold": Case(
        (licence("O365_BUSINESS_PREMIUM", 9),),
        MW_SMB,
        False,
        Reason.BELOW_THRESHOLD,
        Association.CSP,
        Whose.OURS,
        "9 seats",
        words=("9 paid seats", "more than 10 paid seats"),
    ),
    "Modern Work enterprise at 400 paid seats with our CPOR counts": Case(
        (licence("O365_BUSINESS_PREMIUM", 400, owner=None), report("CPOR", HQ)),
        MW_ENT,
        True,
        Reason.COUNTS,
        Association.CPOR,
        Whose.OURS,
        "400 seats",
    ),
    "our CSP does not count for the Modern Work enterprise track": Case(
        (licence("O365_BUSINESS_PREMIUM", 400),),
        MW_ENT,
        False,
        Reason.TYPE_NOT_ELIGIBLE,
        Association.CSP,
        Whose.OURS,
        "400 seats",
        Association.CPOR,
    ),
    "an Azure customer under $1,000 a month": Case(
        (azure(640.0), pal(HQ, SUB)),
        "azure-net-customer-adds",
        False,
        Reason.BELOW_THRESHOLD,
        Association.CSP,
        Whose.OURS,
        "640.00 USD",
        words=("640.00 USD", "$1,000"),
        area="data_ai",
    ),
    "Azure revenue in euros is not compared with a dollar threshold": Case(
        (azure(None, currency="EUR", local=5000.0),),
        "azure-net-customer-adds",
        None,
        Reason.CANNOT_VERIFY,
        Association.CSP,
        Whose.OURS,
        "5,000.00 EUR",
        words=("5,000.00 EUR", "in USD"),
    ),
    "the licence read failed: cannot verify, and the stake is no data": Case(
        (licence("O365_BUSINESS_PREMIUM", 50),),
        MW_SMB,
        None,
        Reason.CANNOT_VERIFY,
        stake="no data",
        words=("graph.subscribed_skus",),
        failed=(Source.GRAPH_SKUS,),
    ),
    "our PAL names the global ID: present, earning nothing, the remedy names a location": Case(
        (
            AzureSubscription(customer_tenant_id=TENANT, subscription_id=SUB),
            report("PAL", GLOBAL_ID, f"azure:{SUB}", acr_usd=4000.0),
            pal(GLOBAL_ID, SUB),
        ),
        "azure-net-customer-adds",
        False,
        Reason.WRONG_PARTNER_ID,
        Association.PAL,
        Whose.OURS,
        "4,000.00 USD",
        Association.PAL,
        words=(f"partner ID {GLOBAL_ID}", "earns nothing"),
        area="data_ai",
    ),
    "no association of ours on a directly bought tenant": Case(
        (licence("O365_BUSINESS_PREMIUM", 50, owner=None),),
        MW_SMB,
        False,
        Reason.NO_ASSOCIATION,
        stake="50 seats",
        remedy=Association.CPOR,
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_credit_line(case: Case) -> None:
    found = line(
        lines(*case.records, failed=case.failed, reports=case.reports), case.rule, case.area
    )

    assert (found.counts_for_us, found.reason) == (case.counts, case.reason), found.words
    if case.holder_kind is None:
        assert found.holder is None or case.reason is Reason.CANNOT_VERIFY
    else:
        assert found.holder is not None
        assert (found.holder.kind, found.holder.whose) == (case.holder_kind, case.whose)
    if case.stake:
        assert str(found.stake) == case.stake
    assert (found.remedy.kind if found.remedy else None) == case.remedy
    for text in case.words:
        assert text in found.words, found.words
    if case.unchecked:
        assert found.unchecked == case.unchecked


def test_licences_of_another_partner_name_its_tenant_as_holder() -> None:
    found = line(lines(licence("SPB", 120, owner=OTHER_TENANT), reports=False), MW_SMB)

    assert found.holder is not None
    assert found.holder.holder == OTHER_TENANT
    assert found.remedy is not None and found.remedy.partner_id == HQ
    assert "CPOR" in found.remedy.words and HQ in found.remedy.words


def test_a_free_power_automate_sku_adds_no_seat_and_no_business_apps_line() -> None:
    found = lines(licence("O365_BUSINESS_PREMIUM", 120), licence("FLOW_FREE", 10_000, sub="d2"))

    assert str(line(found, MW_SMB).stake) == "120 seats"
    assert not [x for x in found if x.solution_area == "business_applications"]


def test_modern_work_deployments_use_active_users_per_workload() -> None:
    low = line(
        lines(licence("O365_BUSINESS_PREMIUM", 100), active(exchange=30, teams=20)),
        "modern-work-deployments-smb",
    )
    high = line(
        lines(licence("O365_BUSINESS_PREMIUM", 100), active(exchange=45)),
        "modern-work-deployments-smb",
    )

    assert (low.counts_for_us, low.reason) == (False, Reason.BELOW_THRESHOLD)
    assert "30%" in low.words and low.stake.unit is Unit.USERS
    assert (high.counts_for_us, high.reason) == (True, Reason.COUNTS)


def test_missing_activity_report_is_no_data_not_zero() -> None:
    found = line(
        lines(licence("O365_BUSINESS_PREMIUM", 100), failed=(Source.GRAPH_USAGE,)),
        "modern-work-deployments-smb",
    )

    assert found.stake.value is None and str(found.stake) == "no data"
    assert found.counts_for_us is None


def test_azure_lines_cover_the_three_azure_areas_with_a_money_stake() -> None:
    found = [
        x for x in lines(azure(1500.0), pal(HQ, SUB)) if x.rule_id == "azure-net-customer-adds"
    ]

    assert {x.solution_area for x in found} == {
        "data_ai",
        "infrastructure",
        "digital_app_innovation",
    }
    assert all(x.counts_for_us is True and x.stake.currency == "USD" for x in found)


def test_a_customer_without_a_workload_gets_no_line_for_it() -> None:
    found = lines(licence("O365_BUSINESS_PREMIUM", 50))

    assert not [x for x in found if x.solution_area == "business_applications"]
    assert not [x for x in found if x.rule_id.startswith("azure")]


def test_every_line_names_its_public_sources() -> None:
    found = lines(licence("SPB", 50), azure(1200.0), pal(HQ, SUB))

    assert found
    assert all(x.sources and all(u.startswith("http") for u in x.sources) for x in found)


def test_each_tenant_is_judged_on_its_own_modern_work_track() -> None:
    """Over 300 paid seats of one workload the tenant is enterprise (the SMB rules are not
    judged for it); at or under 300 it is SMB (the enterprise rules are not)."""
    big = lines(licence("O365_BUSINESS_PREMIUM", 400))
    small = lines(licence("O365_BUSINESS_PREMIUM", 50, owner=None), report("CPOR", HQ))

    assert {x.track for x in big if x.solution_area == "modern_work"} == {"enterprise"}
    assert line(big, MW_ENT).reason is Reason.TYPE_NOT_ELIGIBLE
    assert {x.track for x in small if x.solution_area == "modern_work"} == {"smb"}
    assert line(small, MW_SMB).reason is Reason.COUNTS


def test_an_unread_seat_count_leaves_both_tracks_unverified() -> None:
    found = lines(licence("O365_BUSINESS_PREMIUM", 50), failed=(Source.GRAPH_SKUS,))

    mw = [x for x in found if x.solution_area == "modern_work"]
    assert {x.track for x in mw} == {"smb", "enterprise"}
    assert all((x.counts_for_us, x.reason) == (None, Reason.CANNOT_VERIFY) for x in mw)


def test_a_pal_read_that_failed_is_cannot_verify_not_pal_missing() -> None:
    """Our app's PAL read completed and shows no link, but the carrier's failed: the carrier
    may hold our PAL, so "missing" cannot be said."""
    snap = snapshot(AzureSubscription(customer_tenant_id=TENANT, subscription_id=SUB), pal(None))
    statuses = dict(snap.statuses)
    statuses[(Source.ARM_PAL.value, scope_for(TENANT, "carrier"))] = "failed"
    snap = dataclasses.replace(snap, statuses=statuses)
    us = dataclasses.replace(US, identities=(APP, "carrier"))

    found = line(evaluate(snap, us, book()), "azure-net-customer-adds", "data_ai")
    alone = line(
        evaluate(dataclasses.replace(snap, statuses=dict(snapshot().statuses)), US, book()),
        "azure-net-customer-adds",
    )

    assert (found.counts_for_us, found.reason) == (None, Reason.CANNOT_VERIFY)
    assert "arm.pal as carrier" in found.words and found.remedy is None
    assert alone.reason is Reason.PAL_MISSING


def test_a_carrier_not_meant_for_the_tenant_is_no_blind_spot() -> None:
    found = evaluate(
        snapshot(AzureSubscription(customer_tenant_id=TENANT, subscription_id=SUB), pal(None)),
        dataclasses.replace(US, identities=(APP, "carrier")),
        book(),
    )

    assert line(found, "azure-net-customer-adds").reason is Reason.PAL_MISSING


def test_a_pal_alone_makes_no_business_applications_line() -> None:
    """A PAL says who manages what the customer runs; without Power Platform or Dynamics
    seats there is no Business Applications credit to show."""
    found = lines(licence("O365_BUSINESS_PREMIUM", 50), pal(HQ))

    assert not [x for x in found if x.solution_area == "business_applications"]


def test_a_line_under_a_floor_says_by_how_much() -> None:
    found = line(lines(licence("O365_BUSINESS_PREMIUM", 9)), MW_SMB)

    assert found.shortfall is not None
    assert (found.shortfall.figure, found.shortfall.missing) == (9, 2)
    assert found.shortfall.threshold.unit == "seats"


def test_office_reports_do_not_make_a_security_cpor() -> None:
    """A CPOR on Office workloads is no CPOR on Security: the security rules see none."""
    found = lines(licence("SPB", 40, owner=None), report("CPOR", HQ, "m365"))

    assert line(found, "security-deployments").reason is not Reason.COUNTS
    assert line(found, "modern-work-usage-growth-smb").reason is Reason.COUNTS
