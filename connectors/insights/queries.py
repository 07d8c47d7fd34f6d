"""The insights API's queries: which dataset columns the agent asks Partner Center for."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class InsightsQuery:
    """A named query of one dataset; its columns are the documented ones of that dataset.

    ``workload`` is the workload every row of the dataset belongs to (``None``: read it from
    the row, e.g. AzureUsage's SubscriptionId); a Dynamics subscription id is not an Azure one.
    """

    name: str
    sql: str
    workload: str | None = None


DEFAULT_QUERIES: tuple[InsightsQuery, ...] = (
    InsightsQuery(
        "partnerlink-office",
        "SELECT CustomerTenantId, WorkloadName, Month, MonthlyActiveUsers, PaidAvailableUnits, "
        "MPNId, PartnerAttributionType FROM OfficeUsage TIMESPAN LAST_MONTH",
        workload="m365",
    ),
    InsightsQuery(
        "partnerlink-azure",
        "SELECT CustomerTenantId, SubscriptionId, Month, MPNId, PartnerAttributionType, ACR_USD "
        "FROM AzureUsage TIMESPAN LAST_MONTH",
    ),
    InsightsQuery(
        "partnerlink-dynamics",
        "SELECT CustomerTenantId, Month, MPNId, PartnerAttachType, AvailableSeats "
        "FROM DynamicsUsage TIMESPAN LAST_MONTH",
        workload="business_apps",
    ),
    InsightsQuery(
        "partnerlink-ems",
        "SELECT CustomerTenantId, WorkloadName, Month, MonthlyActiveUsers, MPNId, "
        "PartnerAttributionType FROM EMSUsage TIMESPAN LAST_MONTH",
        workload="security",
    ),
)
