"""Small hand-built customer snapshots for the credit view: every read complete unless a test
says otherwise, our partner with a tenant, a global ID and two locations."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

from agent.audit.snapshot import PARTNER_SCOPED, CustomerSnapshot, group_records
from agent.recognition.credit import CreditLine, evaluate
from agent.recognition.holdings import Us
from agent.recognition.load import load_rulebook
from agent.recognition.model import Rulebook
from connectors.records.attribution import Attribution
from connectors.records.azure import AzureSubscription, AzureUsage
from connectors.records.customers import CspSubscription
from connectors.records.licences import ActiveUsers, DirectorySubscription, SubscribedSku
from connectors.records.pal import PalLink
from connectors.records.record import Record
from connectors.records.scope import Source, scope_for

TENANT = "c0000000-0000-4000-8000-000000000001"
OUR_TENANT = "7a11ce00-0000-4000-8000-000000000001"
OTHER_TENANT = "9e000000-0000-4000-8000-000000000005"
GLOBAL_ID = "4100001"
HQ = "4100002"
"""Our location meant for every link kind."""
OTHER_ID = "5200001"
SUB = "50000001-0000-4000-8000-000000000001"
APP = "partner-app"

US = Us(
    tenant_id=OUR_TENANT,
    partner_ids=frozenset({GLOBAL_ID, HQ}),
    ids_for_kind={"pal": frozenset({HQ}), "cpor": frozenset({HQ}), "dpor": frozenset({HQ})},
    identities=(APP,),
)

SKU_IDS = {
    "SPB": "cbdc14ab-d96c-4c30-b9f4-6ada7cdc1d46",
    "O365_BUSINESS_PREMIUM": "f245ecc8-75af-4f8e-b61f-27d8114de5f3",
    "FLOW_FREE": "f30db892-07e9-47e9-837c-80727f46fd3d",
    "POWERAPPS_PER_USER": "b30411f5-fea1-4a59-9ad9-3db7c7ead579",
    "DYN365_ENTERPRISE_SALES": "1e1a282c-9c54-43a2-9310-98ef728faace",
    "ENTERPRISEPACK": "6fd2c87f-b296-42f0-b197-1e91e994b900",
    "AAD_PREMIUM": "078d2b04-f1bd-4111-bbd4-b4b1b354cef4",
}


@cache
def book() -> Rulebook:
    return load_rulebook()


def licence(
    part: str, units: int, *, owner: str | None = OUR_TENANT, sub: str = "d0000001"
) -> list[Record]:
    """A paid (or free) licence: its SKU with its units, and the directory subscription with
    the partner tenant that created it (``owner``)."""
    sku_id = SKU_IDS[part]
    return [
        SubscribedSku(
            customer_tenant_id=TENANT,
            sku_id=sku_id,
            sku_part_number=part,
            enabled_units=units,
            consumed_units=units,
        ),
        DirectorySubscription(
            customer_tenant_id=TENANT,
            subscription_id=f"{sub}-0000-4000-8000-{part.lower()[:4].ljust(12, '0')}",
            sku_id=sku_id,
            sku_part_number=part,
            status="Enabled",
            total_licenses=units,
            owner_tenant_id=owner,
            is_trial=False,
        ),
    ]


def active(**per_workload: int) -> list[Record]:
    return [
        ActiveUsers(customer_tenant_id=TENANT, workload=name, active_users=count)
        for name, count in per_workload.items()
    ]


def report(kind: str, partner_id: str, workload: str = "m365", **figures: object) -> Record:
    return Attribution(
        customer_tenant_id=TENANT,
        workload=workload,
        attribution_type=kind,
        partner_id=partner_id,
        month="2026-11",
        **figures,  # type: ignore[arg-type]
    )


def azure(usd: float | None, *, currency: str = "USD", local: float | None = None) -> list[Record]:
    return [
        AzureSubscription(customer_tenant_id=TENANT, subscription_id=SUB, state="Enabled"),
        AzureUsage(
            customer_tenant_id=TENANT,
            resource_id=SUB,
            total_cost=local if local is not None else usd,
            currency=currency,
            usd_total_cost=usd,
        ),
    ]


def pal(partner_id: str | None, *subscriptions: str) -> Record:
    return PalLink(
        customer_tenant_id=TENANT,
        identity=APP,
        partner_id=partner_id,
        subscriptions=tuple(subscriptions),
    )


def snapshot(
    *records: Record | Iterable[Record],
    failed: Iterable[Source] = (),
    reports: bool = True,
) -> CustomerSnapshot:
    """Every source read completely for the customer (PAL as our app), the insight reports
    read when ``reports``; ``failed`` sources did not complete."""
    flat: list[Record] = []
    for item in records:
        flat.extend([item] if isinstance(item, Record) else item)
    down = set(failed)
    statuses: dict[tuple[str, str], str] = {}
    for source in Source:
        if source in PARTNER_SCOPED:
            scope = "partner"
        elif source is Source.ARM_PAL:
            scope = scope_for(TENANT, APP)
        else:
            scope = scope_for(TENANT)
        done = source not in down and (reports or source is not Source.INSIGHTS)
        statuses[(source.value, scope)] = "complete" if done else "failed"
    return CustomerSnapshot(tenant_id=TENANT, records=group_records(flat), statuses=statuses)


def lines(*records: Record | Iterable[Record], **options: object) -> list[CreditLine]:
    return evaluate(snapshot(*records, **options), US, book())  # type: ignore[arg-type]


def line(found: list[CreditLine], rule_id: str, area: str | None = None) -> CreditLine:
    matches = [
        x for x in found if x.rule_id == rule_id and (area is None or x.solution_area == area)
    ]
    assert matches, f"no credit line for {rule_id}: {[x.rule_id for x in found]}"
    return matches[0]


def resold(part: str, units: int, reseller: str) -> list[Record]:
    """A licence we provide through CSP (indirect) and ``reseller`` resells: the directory
    subscription's commerce id is the Partner Center subscription's id."""
    commerce = "e0000001-0000-4000-8000-000000000001"
    sku_row, directory = licence(part, units, owner=OUR_TENANT)
    assert isinstance(directory, DirectorySubscription)
    return [
        sku_row,
        DirectorySubscription(
            customer_tenant_id=TENANT,
            subscription_id=directory.subscription_id,
            sku_id=directory.sku_id,
            sku_part_number=part,
            status="Enabled",
            total_licenses=units,
            owner_tenant_id="a1000000-0000-4000-8000-00000000d157",
            commerce_subscription_id=commerce,
        ),
        CspSubscription(
            customer_tenant_id=TENANT,
            subscription_id=commerce,
            offer_name=part,
            quantity=units,
            status="active",
            partner_id=reseller,
        ),
    ]
