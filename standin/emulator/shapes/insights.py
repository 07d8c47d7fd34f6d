"""The Partner Center Insights API's payloads: datasets, attribution rows, its envelope."""

from __future__ import annotations

from typing import Any

from standin.scenario.model import AttributionSpec, CustomerSpec, Scenario

_OFFICE = (
    "CustomerTenantId",
    "CustomerTpid",
    "WorkloadName",
    "Month",
    "PaidAvailableUnits",
    "MonthlyActiveUsers",
    "CustomerName",
    "CustomerMarket",
    "CustomerSegment",
    "MPNId",
    "PartnerName",
    "PartnerLocation",
    "PartnerAttributionType",
    "IsDuplicateRowForPGA",
)
"""OfficeUsage's selectable columns (Microsoft Learn, "Partner Center Insights programmatic
API: custom query",
learn.microsoft.com/partner-center/insights/insights-programmatic-custom-query)."""

_AZURE = (
    "SubscriptionId",
    "Month",
    "ServiceLevel1",
    "ServiceLevel2",
    "ServiceLevel3",
    "ServiceLevel4",
    "UsageUnits",
    "UsageQuantity",
    "CustomerTenantId",
    "MPNID",
    "PartnerAttributionType",
    "SalesChannel",
    "ResellerID",
    "AdminType",
    "AssociationType",
    "ACR_USD",
)
"""The Azure usage columns of Microsoft Learn's "Insights data definitions"
(learn.microsoft.com/partner-center/insights/insights-data-definitions)."""

_DYNAMICS = (
    "PGAMpnId",
    "SubscriptionId",
    "SubscriptionStartDate",
    "SubscriptionEndDate",
    "SubscriptionStatus",
    "Month",
    "RevSumDivisionName",
    "RevSumCategoryName",
    "SKU",
    "SKUId",
    "FreeVsPaidSKU",
    "SalesModel",
    "DetailedSalesModel",
    "CustomerName",
    "CustomerTenantId",
    "CustomerTpid",
    "CustomerSegment",
    "CustomerMarket",
    "MPNId",
    "PartnerName",
    "PartnerLocation",
    "PartnerAttachType",
    "AvailableSeats",
    "AssignedSeats",
    "ActiveSeats",
    "DeploymentOpportunity",
    "ActiveUsagePercent",
)
"""DynamicsUsage's selectable columns (the ScheduledDataset example of "Partner Center Insights
programmatic API: first API call", tests/fixtures/microsoft/partnercenter_insights_dataset.json):
its association column is ``PartnerAttachType``, not ``PartnerAttributionType``."""

_UNDOCUMENTED = (
    "CustomerTenantId",
    "CustomerName",
    "WorkloadName",
    "SubscriptionId",
    "Month",
    "MPNId",
    "PartnerAttributionType",
    "MonthlyActiveUsers",
    "PaidAvailableUnits",
    "AvailableSeats",
    "ACR_USD",
)
"""Datasets whose columns no public page lists (EMSUsage, CustomersAndTenants): the Office
columns the agent reads, with the Azure ones."""

INSIGHTS_DATASET_COLUMNS: dict[str, tuple[str, ...]] = {
    "OfficeUsage": _OFFICE,
    "AzureUsage": _AZURE,
    "DynamicsUsage": _DYNAMICS,
    "EMSUsage": _UNDOCUMENTED,
    "CustomersAndTenants": _UNDOCUMENTED,
}
"""Dataset -> its selectable columns, in Microsoft's spelling; a query naming any other column
of that dataset is refused, as the service refuses it."""

INSIGHTS_DATASETS: dict[str, tuple[str, ...]] = {
    "OfficeUsage": ("m365",),
    "AzureUsage": ("azure",),
    "DynamicsUsage": ("business_apps",),
    "EMSUsage": ("security",),
    "CustomersAndTenants": ("m365", "azure", "business_apps", "security"),
}
"""Dataset -> the scenario workloads whose attribution rows it holds. CustomersAndTenants holds
every row, so one query reads all attribution."""


def insights_rows(scenario: Scenario, dataset: str) -> list[dict[str, Any]]:
    kinds = INSIGHTS_DATASETS.get(dataset, ())
    rows: list[dict[str, Any]] = []
    for c in scenario.customers:
        for a in c.attribution:
            if a.workload.split(":", 1)[0].lower() not in kinds:
                continue
            rows.append(_insights_row(c, a))
    return rows


def _blank(value: object | None) -> object:
    return "" if value is None else value


def _insights_row(c: CustomerSpec, a: AttributionSpec) -> dict[str, Any]:
    """One attribution row with every column any dataset selects (blank where the scenario
    says nothing); a query keeps the columns it names."""
    workload = a.workload.lower()
    sub = workload.split(":", 1)[1] if workload.startswith("azure:") else ""
    row: dict[str, Any] = dict.fromkeys(
        {n for cols in INSIGHTS_DATASET_COLUMNS.values() for n in cols}, ""
    )
    row.update(
        {
            "CustomerTenantId": c.tenant_id.lower(),
            "CustomerName": c.name,
            "WorkloadName": workload,
            "SubscriptionId": sub,
            "Month": a.month,
            "MPNId": a.partner_id,
            "MPNID": a.partner_id,
            "PartnerAttributionType": a.type,
            "PartnerAttachType": a.type,
            "AssociationType": a.type,
            "MonthlyActiveUsers": _blank(a.monthly_active_users),
            "PaidAvailableUnits": _blank(a.seats),
            "AvailableSeats": _blank(a.seats),
            "ACR_USD": _blank(a.acr_usd),
            "IsDuplicateRowForPGA": "False",
        }
    )
    return row


def insights_dataset(name: str) -> dict[str, Any]:
    """partnercenter_insights_dataset.json (one dataset)."""
    return {
        "datasetName": name,
        "selectableColumns": list(INSIGHTS_DATASET_COLUMNS[name]),
        "availableMetrics": ["CustomerCount", "CustomerTenantCount", "TotalMonthlyActiveUsers"],
        "availableDateRanges": [
            "LAST_MONTH",
            "LAST_3_MONTHS",
            "LAST_6_MONTHS",
            "LAST_1_YEAR",
            "LIFETIME",
        ],
        "minimumRecurrenceInterval": 24,
    }


def insights_envelope(
    value: list[Any],
    *,
    message: str | None = None,
    status: int = 200,
    total: int | None = None,
    next_link: str | None = None,
) -> dict[str, Any]:
    """The Insights API envelope (§1.9)."""
    return {
        "value": value,
        "nextLink": next_link,
        "totalCount": len(value) if total is None else total,
        "message": message,
        "statusCode": status,
        "dataRedacted": False,
    }
