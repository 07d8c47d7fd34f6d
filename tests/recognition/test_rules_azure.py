"""The Azure rules (Data & AI, Infrastructure, Digital & App Innovation), each from its
source's own example."""

from __future__ import annotations

from agent.recognition.credit import Reason
from agent.recognition.model import Association
from connectors.records.azure import AzureSubscription
from tests.recognition.support import HQ, OTHER_ID, SUB, TENANT, book, line, lines, pal, report


def azure_seen_in_reports(kind: str, partner_id: str, usd: float) -> list[object]:
    return [
        AzureSubscription(customer_tenant_id=TENANT, subscription_id=SUB),
        report(kind, partner_id, f"azure:{SUB}", acr_usd=usd),
    ]


def test_azure_net_customer_adds_counts_a_tenant_with_1000_dollars_a_month() -> None:
    """Customer eligibility: "All Azure areas | Partner association types | CSP, DPOR, PAL";
    qualification criteria: "Net count of Tenants having $1,000 considering any of last two
    months and the same time of last year." """
    rule = book().rule("azure-net-customer-adds")
    assert set(rule.kinds) == {Association.CSP, Association.DPOR, Association.PAL}

    at = line(lines(*azure_seen_in_reports("PAL", HQ, 1000.0), pal(HQ, SUB)), rule.id, "data_ai")
    under = line(lines(*azure_seen_in_reports("PAL", HQ, 999.99), pal(HQ, SUB)), rule.id, "data_ai")

    assert (at.counts_for_us, at.reason) == (True, Reason.COUNTS)
    assert str(at.stake) == "1,000.00 USD"
    assert (under.counts_for_us, under.reason) == (False, Reason.BELOW_THRESHOLD)


def test_azure_usage_growth_counts_our_dpor_and_shows_growth_unchecked() -> None:
    """Customer eligibility: "All Azure areas | Usage growth* | Usage Growth: Any positive
    usage growth for customer" (growth needs last year's month: shown, not judged)."""
    rule = book().rule("azure-usage-growth")

    found = line(lines(*azure_seen_in_reports("DPOR", HQ, 300.0)), rule.id, "infrastructure")

    assert (found.counts_for_us, found.reason) == (True, Reason.COUNTS)
    assert found.holder is not None and found.holder.kind is Association.DPOR
    assert found.unchecked == ("any positive growth of the customer's Azure usage",)


def test_azure_deployments_exclude_virtual_machines_and_follow_the_transacting_partner() -> None:
    """Customer eligibility: "All Azure areas | Deployments | Workloads: All Azure services
    except Virtual Machines, Virtual Machine Licenses"; another partner's CSP holds it."""
    rule = book().rule("azure-deployments")
    assert rule.workloads[0].exclude_services == ("Virtual Machines", "Virtual Machines Licenses")

    found = line(lines(*azure_seen_in_reports("CSP", OTHER_ID, 4000.0)), rule.id)

    assert (found.counts_for_us, found.reason) == (False, Reason.OTHER_TRANSACTING_PARTNER)
    assert found.remedy is not None and found.remedy.kind is Association.PAL
