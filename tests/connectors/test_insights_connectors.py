"""Insights: the report CSV parser, the folder reader and the programmatic API flow."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from connectors.base import APP_USER
from connectors.errors import MalformedResponse, PermanentError, TransientError
from connectors.http.requester import Requester
from connectors.insights.api import InsightsApi
from connectors.insights.columns import normalise_month, normalise_types, normalise_workload
from connectors.insights.folder import InsightsFolder
from connectors.insights.merge import merge_rows, parse_attribution_csv
from connectors.insights.queries import InsightsQuery
from connectors.insights.rows import read_rows
from connectors.records.attribution import Attribution
from tests.connectors.support import (
    CUSTOMER,
    ENDPOINTS,
    PARTNER,
    CountingTokens,
    VirtualClock,
    only,
    read_all,
)

pytestmark = pytest.mark.anyio

SUB = "50000001-0000-4000-8000-000000000001"
OFFICE = (
    "\ufeffCustomerTenantId,WorkloadName,Month,MonthlyActiveUsers,PaidAvailableUnits,MPNId,"
    "PartnerAttributionType\n"
    f"{CUSTOMER.upper()},Exchange,2026-10-01,20,25,4100002,CPOR\n"
    f"{CUSTOMER},Teams,2026-10-01,22,25,4100002,CPOR\n"
    f"{CUSTOMER},Teams,2026-09-01,99,25,4100002,CPOR\n"
    ",Teams,2026-10-01,5,5,4100002,CPOR\n"
)
AZURE = (
    "Customer Tenant Id,Subscription Id,Month,MPN ID,Partner Attribution Type,ACR_USD\n"
    f"{CUSTOMER},{SUB.upper()},2026-10,4100002,PAL,4000.0\n"
    f"{CUSTOMER},{SUB},2026-10,4100002,PAL,200\n"
)


def test_office_rows_merge_into_one_m365_record_of_the_newest_month() -> None:
    assert parse_attribution_csv(OFFICE) == [
        Attribution(
            customer_tenant_id=CUSTOMER,
            workload="m365",
            attribution_type="CPOR",
            partner_id="4100002",
            month="2026-10",
            monthly_active_users=22,
            seats=25,
        )
    ]


def test_the_merge_does_not_depend_on_row_order() -> None:
    """Rows merge as they stream in: an older month seen after a newer one, or before it,
    gives the same record."""
    header, *rows = OFFICE.splitlines()
    for ordered in (rows, rows[::-1], [rows[2], rows[0], rows[3], rows[1]]):
        assert parse_attribution_csv("\n".join([header, *ordered])) == parse_attribution_csv(OFFICE)


def test_bytes_that_are_not_utf8_are_malformed_wherever_they_are() -> None:
    late = (OFFICE + f"{CUSTOMER},Teams,2026-10-01,1,1,4100002,CPOR\n" * 4000).encode()
    with pytest.raises(MalformedResponse, match="not UTF-8"):
        parse_attribution_csv(late + b"\xff\xfe,broken\n")


def test_azure_rows_key_on_the_subscription_and_sum_revenue() -> None:
    assert parse_attribution_csv(AZURE.encode("utf-8")) == [
        Attribution(
            customer_tenant_id=CUSTOMER,
            workload=f"azure:{SUB}",
            attribution_type="PAL",
            partner_id="4100002",
            month="2026-10",
            subscription_id=SUB,
            acr_usd=4200.0,
        )
    ]


def test_association_type_lists_split_into_records() -> None:
    records = parse_attribution_csv(
        "CustomerTenantId,Workload,PartnerAssociationType,PartnerId\n"
        f'{CUSTOMER},Dynamics 365 Sales,"CSP T1, DPOR, PAL",4100002\n'
    )
    assert [(r.workload, r.attribution_type) for r in records] == [
        ("business_apps", "CSP"),
        ("business_apps", "DPOR"),
        ("business_apps", "PAL"),
    ]


@pytest.mark.parametrize(
    ("workload", "sub", "expected"),
    [
        ("Office 365", None, "m365"),
        ("Microsoft Teams", None, "m365"),
        ("Power BI Pro", None, "business_apps"),
        ("EMS E3", None, "security"),
        ("m365", None, "m365"),
        ("business_apps", None, "business_apps"),
        (f"azure:{SUB.upper()}", None, f"azure:{SUB}"),
        ("Azure", "ABC", "azure:abc"),
        ("Windows 365", None, "windows 365"),
        (None, None, None),
    ],
)
def test_workloads_normalise(workload: str | None, sub: str | None, expected: str | None) -> None:
    assert normalise_workload(workload, sub) == expected


def test_types_and_months_normalise() -> None:
    assert normalise_types("csp t2; Tracked Template") == ["CSP", "TRACKED TEMPLATE"]
    assert normalise_month("10/1/2026") == "2026-10"
    assert normalise_month("2026-10-01T00:00:00") == "2026-10"


@pytest.mark.parametrize(
    "content",
    [
        "",
        "Month,MPNId\n2026-10,1\n",
        "CustomerTenantId,PartnerAttributionType\nx,DPOR\n",
        "CustomerTenantId,WorkloadName,PartnerAttributionType,MonthlyActiveUsers\n"
        "x,m365,CPOR,lots\n",
    ],
)
def test_unusable_reports_are_malformed(content: str) -> None:
    with pytest.raises(MalformedResponse):
        parse_attribution_csv(content)


async def test_folder_merges_every_csv(tmp_path: Path) -> None:
    (tmp_path / "office.csv").write_text(OFFICE, encoding="utf-8")
    (tmp_path / "azure.CSV").write_bytes(AZURE.encode("utf-8"))
    (tmp_path / "notes.txt").write_text("ignored")
    records = only(Attribution, await read_all(InsightsFolder(tmp_path), None))
    assert {r.workload for r in records} == {"m365", f"azure:{SUB}"}


async def test_empty_or_missing_folder_cannot_verify(tmp_path: Path) -> None:
    with pytest.raises(PermanentError, match="no report"):
        [r async for r in InsightsFolder(tmp_path).fetch(None)]
    with pytest.raises(PermanentError, match="missing"):
        [r async for r in InsightsFolder(tmp_path / "nope").fetch(None)]


def envelope(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "value": [item],
        "nextLink": None,
        "totalCount": 1,
        "message": None,
        "statusCode": 200,
        "dataRedacted": False,
    }


class InsightsServer:
    """The documented flow: create query, create report, poll execution, download CSV."""

    def __init__(self, *, pending_polls: int = 1, final: str = "Completed") -> None:
        self.pending = pending_polls
        self.final = final
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        if path.endswith("/ScheduledQueries"):
            return httpx.Response(200, json=envelope({"queryId": "q-1"}))
        if path.endswith("/ScheduledReport"):
            return httpx.Response(200, json=envelope({"reportId": "r-1"}))
        if "/ScheduledReport/execution/" in path:
            if self.pending > 0:
                self.pending -= 1
                return httpx.Response(
                    200,
                    json=envelope({"executionStatus": "Pending", "reportAccessSecureLink": None}),
                )
            return httpx.Response(
                200,
                json=envelope(
                    {
                        "executionStatus": self.final,
                        "reportAccessSecureLink": "https://pcinsights.blob.example/r.csv?sig=SECRET",
                    }
                ),
            )
        if request.url.host == "pcinsights.blob.example":
            return httpx.Response(200, content=OFFICE.encode("utf-8"))
        return httpx.Response(404)


def api(requester: Requester, vclock: VirtualClock, **kw: Any) -> InsightsApi:
    return InsightsApi(
        requester,
        ENDPOINTS,
        partner_tenant_id=PARTNER,
        queries=(InsightsQuery("q", "SELECT * FROM OfficeUsage"),),
        poll_interval=60,
        sleep=vclock.sleep,
        clock=vclock,
        **kw,
    )


async def test_insights_api_flow_downloads_the_report_without_authorization(
    requester_for: Callable[..., Requester], vclock: VirtualClock, tokens: CountingTokens
) -> None:
    server = InsightsServer(pending_polls=2)
    connector = api(requester_for(server), vclock)
    records = only(Attribution, await read_all(connector, None))
    assert [r.workload for r in records] == ["m365"]
    methods = [(r.method, r.url.path.rsplit("/", 1)[-1]) for r in server.requests]
    assert methods[:2] == [("POST", "ScheduledQueries"), ("POST", "ScheduledReport")]
    assert server.requests[2].url.params["getLatestExecution"] == "true"
    assert vclock.sleeps == [60, 60]
    download = server.requests[-1]
    assert "Authorization" not in download.headers
    assert {c["identity"] for c in tokens.calls} == {APP_USER}
    # A second run reuses the query.
    [r async for r in connector.fetch(None)]
    assert sum(r.url.path.endswith("/ScheduledQueries") for r in server.requests) == 1


async def test_insights_report_that_never_completes_is_transient(
    requester_for: Callable[..., Requester], vclock: VirtualClock
) -> None:
    connector = api(requester_for(InsightsServer(pending_polls=10_000)), vclock, poll_timeout=300)
    with pytest.raises(TransientError, match="not ready"):
        [r async for r in connector.fetch(None)]


async def test_insights_failed_execution_is_permanent(
    requester_for: Callable[..., Requester], vclock: VirtualClock
) -> None:
    connector = api(requester_for(InsightsServer(pending_polls=0, final="Failed")), vclock)
    with pytest.raises(PermanentError, match="failed"):
        [r async for r in connector.fetch(None)]


def test_a_dataset_workload_overrides_its_own_subscription_ids() -> None:
    dynamics = (
        "CustomerTenantId,SubscriptionId,Month,MPNId,PartnerAttributionType,AvailableSeats\n"
        f"{CUSTOMER},D365-SUB-1,2026-10,4100002,DPOR,40\n"
    )
    [record] = merge_rows(read_rows(dynamics, origin="t", workload="business_apps"))
    assert (record.workload, record.subscription_id, record.seats) == ("business_apps", None, 40)
    # Without the hint a SubscriptionId is an Azure one.
    [azure] = parse_attribution_csv(dynamics)
    assert azure.workload == "azure:d365-sub-1"
