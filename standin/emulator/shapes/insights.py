"""The Partner Center Insights API's payloads: datasets, attribution rows, its envelope."""

from __future__ import annotations

from typing import Any

from standin.scenario.model import AttributionSpec, CustomerSpec, Scenario

INSIGHTS_COLUMNS: tuple[str, ...] = (
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
"""Columns the emulator serves in every attribution dataset (a union of the documented
OfficeUsage, AzureUsage and DynamicsUsage columns, §1.9)."""

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


def _insights_row(c: CustomerSpec, a: AttributionSpec) -> dict[str, Any]:
    workload = a.workload.lower()
    sub = workload.split(":", 1)[1] if workload.startswith("azure:") else ""
    return {
        "CustomerTenantId": c.tenant_id.lower(),
        "CustomerName": c.name,
        "WorkloadName": workload,
        "SubscriptionId": sub,
        "Month": a.month,
        "MPNId": a.partner_id,
        "PartnerAttributionType": a.type,
        "MonthlyActiveUsers": "" if a.monthly_active_users is None else a.monthly_active_users,
        "PaidAvailableUnits": "" if a.seats is None else a.seats,
        "AvailableSeats": "" if a.seats is None else a.seats,
        "ACR_USD": "" if a.acr_usd is None else a.acr_usd,
    }


def insights_dataset(name: str) -> dict[str, Any]:
    """partnercenter_insights_dataset.json (one dataset)."""
    return {
        "datasetName": name,
        "selectableColumns": list(INSIGHTS_COLUMNS),
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
