"""Every real Microsoft payload in tests/fixtures/microsoft goes through the code that reads it.

Success bodies parse through their connector's parsing function (and, where a whole connector
reads them, through the connector over ``httpx.MockTransport``); error bodies map to the right
error class through ``error_for_status``. A test fails when a sample has no case here, so a new
sample cannot be skipped silently.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from connectors.arm import ArmPal, ArmSubscriptions, PalWriter, is_not_linked, parse_partner
from connectors.arm import parse_subscription as parse_arm_subscription
from connectors.destinations import DownloadGuard
from connectors.endpoints import CloudEndpoints
from connectors.errors import (
    AuthError,
    IncompleteListing,
    MalformedResponse,
    PermanentError,
    ThrottledError,
    error_for_status,
)
from connectors.graph.contracts import GraphContracts, parse_contract
from connectors.graph.gdap import GraphGdap, parse_relationship
from connectors.graph.licences import (
    GraphDirectorySubscriptions,
    GraphSubscribedSkus,
    parse_directory_subscription,
    parse_subscribed_sku,
)
from connectors.graph.reports import GraphUsageReports, parse_services_user_counts
from connectors.http.client import make_client
from connectors.http.gate import ScopeGate
from connectors.http.paging import ArmPaginator, GraphPaginator, PartnerCenterPaginator
from connectors.http.request import ApiRequest
from connectors.http.requester import Requester
from connectors.insights.api import InsightsApi, first_value
from connectors.insights.queries import InsightsQuery
from connectors.partner_center import (
    PartnerCenterAuditRecords,
    PartnerCenterCustomers,
    PartnerCenterSubscriptions,
    PartnerCenterUsage,
    parse_audit_record,
    parse_customer,
    parse_license_usage,
    parse_subscription,
    parse_usage_record,
)
from connectors.records.attribution import Attribution
from connectors.records.azure import AzureSubscription, AzureUsage
from connectors.records.customers import AuditEvent, Contract, CspSubscription, Customer
from connectors.records.gdap import GdapAccessAssignment, GdapRelationship, GdapStatus
from connectors.records.licences import (
    ActiveUsers,
    DirectorySubscription,
    LicenseUsage,
    SubscribedSku,
)
from connectors.records.pal import PalLink
from tests.connectors.support import (
    CountingTokens,
    FakeDns,
    VirtualClock,
    jwt_with,
    only,
    read_all,
)
from tests.fixtures import MICROSOFT as SAMPLES

ENDPOINTS = CloudEndpoints.public()
PARTNER = "7a11ce00-0000-4000-8000-000000000001"
TENANT = "1b1121dd-6900-412a-af73-e8d44f81e1c1"


def envelope(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SAMPLES / name).read_text(encoding="utf-8"))
    assert "_source" in data, f"{name} lacks its _source"
    return data


def body(name: str) -> Any:
    return envelope(name)["body"]


def raw(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


@asynccontextmanager
async def serving(
    handler: Callable[[httpx.Request], httpx.Response], tokens: CountingTokens | None = None
) -> AsyncIterator[Requester]:
    """A requester on virtual time whose client serves ``handler``."""
    clock = VirtualClock()
    async with make_client(transport=httpx.MockTransport(handler)) as client:
        yield Requester(
            client,
            tokens or CountingTokens(),
            gate=ScopeGate(clock=clock, sleep=clock.sleep),
            sleep=clock.sleep,
            downloads=DownloadGuard(resolve=FakeDns()),  # download hosts resolve publicly
        )


def answer(
    payload: Any, status: int = 200, headers: dict[str, str] | None = None
) -> Callable[[httpx.Request], httpx.Response]:
    return lambda request: httpx.Response(status, json=payload, headers=headers)


def error_of(name: str, status: int | None = None) -> Exception:
    data = envelope(name)
    return error_for_status(
        status or data["status"], body=data["body"], headers=data.get("headers") or {}, what=name
    )


Check = Callable[[], Awaitable[None] | None]
CASES: dict[str, Check] = {}


def case(*names: str) -> Callable[[Check], Check]:
    def register(check: Check) -> Check:
        for name in names:
            assert name not in CASES, f"{name} has two cases"
            CASES[name] = check
        return check

    return register


# --- Partner Center ---------------------------------------------------------------------------


@case("partnercenter_customers_list.json")
async def customers_list() -> None:
    items = body("partnercenter_customers_list.json")["items"]
    parsed = [parse_customer(item) for item in items]
    # The doc's companyProfile.tenantId is "<guid>": the item id is the tenant.
    assert parsed[0].tenant_id == "b44bb1fb-c595-45b0-9e09-d657365580bf"
    async with serving(answer(body("partnercenter_customers_list.json"))) as requester:
        records = await read_all(
            PartnerCenterCustomers(requester, ENDPOINTS, partner_tenant_id=PARTNER), None
        )
    assert records == parsed
    assert all(isinstance(r, Customer) and r.relationship == "reseller" for r in records)


@case("partnercenter_customer_get.json")
def customer_get() -> None:
    customer = parse_customer(body("partnercenter_customer_get.json"))
    assert customer == Customer(
        tenant_id="eebd1b55-5360-4438-a11d-5c06918c3014",
        name="1kl as kjk",
        domain="abcdefgh1234.ccsctp.net",
        relationship="reseller",
        allow_delegated_access=True,
    )


@case("partnercenter_subscriptions_list.json")
async def subscriptions_list() -> None:
    customer = "c501c3c4-d776-40ef-9ecf-9cefb59442c1"
    async with serving(answer(body("partnercenter_subscriptions_list.json"))) as requester:
        [sub] = only(
            CspSubscription,
            await read_all(
                PartnerCenterSubscriptions(requester, ENDPOINTS, partner_tenant_id=PARTNER),
                customer,
            ),
        )
    assert sub.subscription_id == "42226ed6-070a-4e0f-b80c-4cdfb3e97aa7"
    assert (sub.partner_id, sub.offer_name, sub.quantity) == ("4847383", "Intune Device", 5)
    assert sub.created == datetime(2017, 4, 10, 23, 2, 26, 20000, tzinfo=UTC)


@case("partnercenter_subscriptions_list_customer.json")
async def subscriptions_list_customer() -> None:
    sample = body("partnercenter_subscriptions_list_customer.json")
    [sub] = [parse_subscription(item, "C") for item in sample["items"]]
    assert sub.created is None  # "2015-11-25T06: 41: 12Z"
    assert (sub.offer_id, sub.offer_name) == (None, None)
    # The doc trimmed 37 items to 1: read as a listing, that is an incomplete one.
    async with serving(answer(sample)) as requester:
        connector = PartnerCenterSubscriptions(requester, ENDPOINTS, partner_tenant_id=PARTNER)
        with pytest.raises(IncompleteListing):
            await read_all(connector, "c")


@case(
    "partnercenter_subscription_get_addon.json", "partnercenter_subscription_get_azure_legacy.json"
)
def subscription_get() -> None:
    addon = parse_subscription(body("partnercenter_subscription_get_addon.json"), "C")
    assert addon.subscription_id == "968ba1cf-c146-4adf-a300-308dcf718eee"
    legacy = parse_subscription(body("partnercenter_subscription_get_azure_legacy.json"), "C")
    assert (legacy.offer_id, legacy.billing_type) == ("MS-AZR-0145P", "usage")


@case("partnercenter_auditrecords.json")
async def audit_records() -> None:
    items = body("partnercenter_auditrecords.json")["items"]
    events = [parse_audit_record(item) for item in items]
    assert [e.operation_type for e in events] == ["create_order", "update_customer_user_licenses"]
    assert all(e.event_id.startswith("sha256:") for e in events)  # the doc records have no id
    assert len({e.event_id for e in events}) == 2
    assert events[0].customer_tenant_id == "0c39d6d5-c70d-4c55-bc02-f620844f3fd1"
    async with serving(answer(body("partnercenter_auditrecords.json"))) as requester:
        records = await read_all(
            PartnerCenterAuditRecords(requester, ENDPOINTS, partner_tenant_id=PARTNER), None
        )
    assert only(AuditEvent, records) == events


@case("partnercenter_subscription_usagerecords.json", "partnercenter_licenses_usage_customer.json")
async def usage() -> None:
    usage_body = body("partnercenter_subscription_usagerecords.json")
    licences_body = body("partnercenter_licenses_usage_customer.json")

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/usagerecords"):
            return httpx.Response(200, json=usage_body)
        return httpx.Response(200, json=licences_body)

    async with serving(handler) as requester:
        records = await read_all(
            PartnerCenterUsage(requester, ENDPOINTS, partner_tenant_id=PARTNER), "C"
        )
    usages = [r for r in records if isinstance(r, AzureUsage)]
    licences = [r for r in records if isinstance(r, LicenseUsage)]
    assert [u.partner_on_record for u in usages] == ["some-id", "some-id"]  # doc placeholder
    assert usages[0] == parse_usage_record(usage_body["items"][0], "c")
    assert (usages[0].currency, usages[0].total_cost) == ("GBP", 0.0)
    assert len(licences) == 5
    assert licences[0] == parse_license_usage(licences_body["items"][0], "c")
    assert licences[0].product == "OFFICE 365 BUSINESS ESSENTIALS"


@case("partnercenter_customer_usagerecords.json")
def customer_usage_records() -> None:
    # GET /v1/customers/usagerecords (partner-wide) is not read by a connector, but its items
    # share the usage-record shape, and as a listing the trimmed doc example is incomplete.
    sample = body("partnercenter_customer_usagerecords.json")
    records = [parse_usage_record(item, "c") for item in sample["items"]]
    assert records[1].currency == "SEK"
    page = PartnerCenterPaginator(ENDPOINTS).page(sample, _request("pc"))
    assert page.total == 25
    assert len(page.items) == 4


@case("partnercenter_paging_next_link_example.json")
def paging_next_link() -> None:
    page = PartnerCenterPaginator(ENDPOINTS).page(
        body("partnercenter_paging_next_link_example.json"), _request("pc")
    )
    assert page.next is not None
    assert page.next.url == (
        "https://api.partnercenter.microsoft.com/v1/invoices/T000001234/lineitems?provider="
        "onetime&invoicelineitemtype=usagelineitems&currencycode=usd&period=previous&size=2000"
        "&seekOperation=Next"
    )
    assert page.next.headers["MS-ContinuationToken"] == "AQAAAA=="


@case(
    "partnercenter_azure_utilization.json",
    "partnercenter_customer_relationships.json",
    "partnercenter_indirect_resellers_list.json",
)
def partner_center_collections_not_read() -> None:
    # Not read by any connector (yet): they must still be well-formed collections.
    for name, count in (
        ("partnercenter_azure_utilization.json", 2),
        ("partnercenter_customer_relationships.json", 1),
        ("partnercenter_indirect_resellers_list.json", 2),
    ):
        page = PartnerCenterPaginator(ENDPOINTS).page(body(name), _request("pc"))
        assert (len(page.items), page.total, page.next) == (count, count, None)


@case("partnercenter_customer_usagesummary.json", "partnercenter_partner_usagesummary.json")
def usage_summaries_not_read() -> None:
    # Summaries are not read: only the record they describe must be a JSON object with a cost.
    for name in (
        "partnercenter_customer_usagesummary.json",
        "partnercenter_partner_usagesummary.json",
    ):
        assert isinstance(body(name)["totalCost"], float)


@case("partnercenter_error_no_relationship.json", "partnercenter_error_authorization_failed.json")
def partner_center_errors() -> None:
    # The issues quote the bodies without their status: refused calls come as 401 or 403.
    for name in (
        "partnercenter_error_no_relationship.json",
        "partnercenter_error_authorization_failed.json",
    ):
        for status in (401, 403):
            error = error_of(name, status)
            assert isinstance(error, AuthError)
            assert error.code == str(body(name)["code"])
    assert "No relationship" in str(error_of("partnercenter_error_no_relationship.json", 403))


@case("partnercenter_throttle_429.json")
async def partner_center_throttled() -> None:
    error = error_of("partnercenter_throttle_429.json")
    assert isinstance(error, ThrottledError)
    assert error.retry_after == 57.0
    data = envelope("partnercenter_throttle_429.json")
    async with serving(answer(data["body"], 429, data["headers"])) as requester:
        with pytest.raises(ThrottledError):
            await requester.send(_request("pc:p"))
        assert (
            requester.gate.delay("pc:p") >= 56.0
        )  # the partner's scope is paused (guarantee retry-after)
        assert requester.gate.delay("graph:p") == 0.0


# --- Partner Center insights ------------------------------------------------------------------


INSIGHTS_CSV = (
    "\ufeffCustomerTenantId,WorkloadName,SubscriptionId,Month,MPNId,PartnerAttributionType,"
    "MonthlyActiveUsers,PaidAvailableUnits,ACR_USD\n"
    "c0000000-0000-4000-8000-000000000001,Exchange,,2026-10-01,4100002,CPOR,22,25,\n"
    "c0000000-0000-4000-8000-000000000001,,50000001-0000-4000-8000-000000000001,2026-10-01,"
    "4100002,PAL,,,4200.0\n"
)


@case(
    "partnercenter_insights_query_create.json",
    "partnercenter_insights_report_create.json",
    "partnercenter_insights_report_execution.json",
)
async def insights_flow() -> None:
    execution = body("partnercenter_insights_report_execution.json")
    assert first_value(execution, "w")["executionStatus"] == "Pending"
    done = json.loads(json.dumps(execution))
    done["value"][0].update(
        executionStatus="Completed",
        reportAccessSecureLink="https://pcinsights.blob.example/r.csv?sig=x",
    )
    polls = [execution, done]

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/ScheduledQueries"):
            return httpx.Response(200, json=body("partnercenter_insights_query_create.json"))
        if request.url.path.endswith("/ScheduledReport"):
            return httpx.Response(200, json=body("partnercenter_insights_report_create.json"))
        if "/execution/" in request.url.path:
            assert request.url.path.endswith("/cdc61cfe-d028-4333-a215-a1df51ccbfd4")
            return httpx.Response(200, json=polls.pop(0))
        assert "Authorization" not in request.headers
        return httpx.Response(200, content=INSIGHTS_CSV.encode("utf-8"))

    clock = VirtualClock()
    async with serving(handler) as requester:
        connector = InsightsApi(
            requester,
            ENDPOINTS,
            partner_tenant_id=PARTNER,
            queries=(InsightsQuery("q", "SELECT * FROM OfficeUsage"),),
            poll_interval=5,
            sleep=clock.sleep,
            clock=clock,
        )
        records = only(Attribution, await read_all(connector, None))
    assert [(r.workload, r.attribution_type) for r in records] == [
        ("azure:50000001-0000-4000-8000-000000000001", "PAL"),
        ("m365", "CPOR"),
    ]


@case("partnercenter_insights_dataset.json", "partnercenter_insights_test_query_result.json")
def insights_envelopes_not_read() -> None:
    dataset = first_value(body("partnercenter_insights_dataset.json"), "w")
    assert "SubscriptionId" in dataset["selectableColumns"]
    rows = body("partnercenter_insights_test_query_result.json")
    assert first_value(rows, "w")["SubscriptionId"]


# --- Graph ------------------------------------------------------------------------------------


@case("graph_contracts_list.json")
async def contracts() -> None:
    [contract] = [parse_contract(item) for item in body("graph_contracts_list.json")["value"]]
    assert contract == Contract(
        customer_tenant_id="customerid-value",
        contract_type="contractType-value",
        display_name="displayName-value",
        default_domain="defaultDomainName-value",
    )
    async with serving(answer(body("graph_contracts_list.json"))) as requester:
        records = await read_all(
            GraphContracts(requester, ENDPOINTS, partner_tenant_id=PARTNER), None
        )
    assert records == [contract]


@case("graph_delegatedAdminRelationships_list.json")
async def gdap() -> None:
    sample = body("graph_delegatedAdminRelationships_list.json")
    relationships = [parse_relationship(item) for item in sample["value"]]
    assert [r.status for r in relationships] == [
        GdapStatus.ACTIVE,
        GdapStatus.TERMINATED,
        GdapStatus.APPROVAL_PENDING,
    ]
    assert relationships[2].activated is None
    assert relationships[0].ends == datetime(2024, 2, 10, 11, 24, 42, 314826, tzinfo=UTC)

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/accessAssignments"):
            return httpx.Response(
                200,
                json={
                    "value": [
                        {
                            "id": "aa",
                            "status": "active",
                            "accessContainer": {
                                "accessContainerId": "G",
                                "accessContainerType": "securityGroup",
                            },
                            "accessDetails": {"unifiedRoles": []},
                        }
                    ]
                },
            )
        return httpx.Response(200, json=sample)

    async with serving(handler) as requester:
        records = await read_all(GraphGdap(requester, ENDPOINTS, partner_tenant_id=PARTNER), None)
    assert only(GdapRelationship, [r for r in records if isinstance(r, GdapRelationship)]) == (
        relationships
    )
    assert len([r for r in records if isinstance(r, GdapAccessAssignment)]) == 3


@case("graph_delegatedAdminCustomers_list.json")
def gdap_customers_not_read() -> None:
    page = GraphPaginator().page(body("graph_delegatedAdminCustomers_list.json"), _request("graph"))
    assert [item["tenantId"] for item in page.items] == [
        "4fdbff88-9d6b-42e0-9713-45c922ba8001",
        "1c0fa218-5dec-49db-8247-cfa457af8116",
    ]


@case("graph_subscribedSkus.json")
async def subscribed_skus() -> None:
    async with serving(answer(body("graph_subscribedSkus.json"))) as requester:
        records = only(
            SubscribedSku,
            await read_all(
                GraphSubscribedSkus(requester, ENDPOINTS, partner_tenant_id=PARTNER), "C"
            ),
        )
    assert [
        (r.sku_part_number, r.enabled_units, r.consumed_units, r.capability_status) for r in records
    ] == [("ENTERPRISEPREMIUM", 25, 14, "Enabled"), ("CRMSTANDARD", 0, 14, "Suspended")]
    assert records == [
        parse_subscribed_sku(i, "c") for i in body("graph_subscribedSkus.json")["value"]
    ]


@case("graph_directory_subscriptions.json")
async def directory_subscriptions() -> None:
    async with serving(answer(body("graph_directory_subscriptions.json"))) as requester:
        [sub] = only(
            DirectorySubscription,
            await read_all(
                GraphDirectorySubscriptions(requester, ENDPOINTS, partner_tenant_id=PARTNER), "C"
            ),
        )
    assert sub == parse_directory_subscription(
        body("graph_directory_subscriptions.json")["value"][0], "c"
    )
    assert (sub.owner_tenant_id, sub.total_licenses, sub.is_trial) == (
        "331af819-4e0b-49f7-a6bf-14e1165ad3a0",
        25,
        False,
    )


@case("graph_report_office365ServicesUserCounts.csv")
async def services_user_counts() -> None:
    header = raw("graph_report_office365ServicesUserCounts.csv")
    assert parse_services_user_counts(header, "c") == []  # a report with no data yet
    assert parse_services_user_counts(b"\xef\xbb\xbf" + header, "c") == []
    row = b"2026-11-01,24,1,9,16,18,7,0,25,0,25,22,3,24,1,30\r\n"
    download = b"\xef\xbb\xbf" + header.rstrip(b"\r\n") + b"\r\n" + row

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "graph.microsoft.com":
            return httpx.Response(302, headers={"Location": "https://reports.example/r?sig=x"})
        assert "Authorization" not in request.headers
        return httpx.Response(200, content=download)

    async with serving(handler) as requester:
        records = only(
            ActiveUsers,
            await read_all(GraphUsageReports(requester, ENDPOINTS, partner_tenant_id=PARTNER), "C"),
        )
    assert {r.workload: r.active_users for r in records} == {
        "exchange": 24,
        "onedrive": 9,
        "sharepoint": 18,
        "skype_for_business": 0,
        "yammer": 0,
        "teams": 22,
        "office365": 24,
    }


@case(
    "graph_report_office365ActiveUserCounts.csv",
    "graph_report_m365AppUserCounts.csv",
    "graph_report_teamsUserActivityCounts.csv",
)
def other_report_csvs() -> None:
    # Not the report the connector reads: served by mistake, it is refused, not misread.
    for name in (
        "graph_report_office365ActiveUserCounts.csv",
        "graph_report_m365AppUserCounts.csv",
        "graph_report_teamsUserActivityCounts.csv",
    ):
        with pytest.raises(MalformedResponse):
            parse_services_user_counts(raw(name), "c")


@case("graph_report_m365AppUserCounts.json", "graph_report_office365ActiveUserCounts_beta.json")
def json_reports_not_read() -> None:
    for name in (
        "graph_report_m365AppUserCounts.json",
        "graph_report_office365ActiveUserCounts_beta.json",
    ):
        page = GraphPaginator().page(body(name), _request("graph"))
        assert page.items[0]["reportRefreshDate"]


@case("graph_error_not_found.json")
def graph_not_found() -> None:
    error = error_of("graph_error_not_found.json")
    assert type(error) is PermanentError
    assert error.code == "Request_ResourceNotFound"


@case("graph_error_throttled_429.json")
def graph_throttled() -> None:
    error = error_of("graph_error_throttled_429.json")
    assert isinstance(error, ThrottledError)
    assert error.retry_after == pytest.approx(2.128)
    assert error.code == "TooManyRequests"


# --- ARM --------------------------------------------------------------------------------------


@case("arm_managementpartner_get.json", "arm_managementpartner_get_nopartnerid.json")
async def pal_linked() -> None:
    for name, version in (
        ("arm_managementpartner_get.json", 61),
        ("arm_managementpartner_get_nopartnerid.json", "3"),
    ):
        sample = body(name)
        assert sample["properties"]["version"] == version  # int in reality, str in the spec
        link = parse_partner(sample, TENANT, "partner-app")
        assert (link.partner_id, link.object_id, link.state) == (
            "123456",
            "aa67f786-0552-423e-8849-244ed12bf581",
            "Active",
        )

        def handler(request: httpx.Request, sample: Any = sample) -> httpx.Response:
            if request.url.path == "/subscriptions":
                return httpx.Response(
                    200, json=body("arm_subscriptions_list.json") | {"nextLink": None}
                )
            return httpx.Response(200, json=sample)

        async with serving(handler) as requester:
            [record] = only(PalLink, await read_all(ArmPal(requester, ENDPOINTS), TENANT))
        assert record.partner_id == "123456"
        assert record.subscriptions == (
            "291bba3f-e0a5-47bc-a099-3bdcb2a50a05",
            "72ac930a-f34e-42d8-b06d-dc2a9e12ed71",
        )


@case("arm_managementpartner_notfound_error.json")
async def pal_not_linked() -> None:
    data = envelope("arm_managementpartner_notfound_error.json")
    error = error_of("arm_managementpartner_notfound_error.json")
    assert isinstance(error, PermanentError)
    assert is_not_linked(error)

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/subscriptions":
            return httpx.Response(200, json={"value": []})
        return httpx.Response(404, json=data["body"], headers=data["headers"])

    tokens = CountingTokens(jwt_with({"oid": "aa67f786-0552-423e-8849-244ed12bf581"}))
    async with serving(handler, tokens) as requester:
        [link] = only(PalLink, await read_all(ArmPal(requester, ENDPOINTS), TENANT))
    assert link == PalLink(
        customer_tenant_id=TENANT,
        identity="partner-app",
        object_id="aa67f786-0552-423e-8849-244ed12bf581",
        partner_id=None,
    )


@case("arm_managementpartner_invalid_partnerid_error.json")
async def pal_invalid_partner_id() -> None:
    data = envelope("arm_managementpartner_invalid_partnerid_error.json")
    error = error_of("arm_managementpartner_invalid_partnerid_error.json")
    assert type(error) is PermanentError
    assert error.code == "PartnerIdInvalid"

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/subscriptions":
            return httpx.Response(200, json={"value": []})
        if request.method == "GET":
            return httpx.Response(404, json=body("arm_managementpartner_notfound_error.json"))
        return httpx.Response(400, json=data["body"], headers=data["headers"])

    async with serving(handler) as requester:
        with pytest.raises(PermanentError, match="not valid"):
            await PalWriter(requester, ENDPOINTS).pal_link("partner-app", TENANT, "123456")


@case("arm_subscriptions_list.json")
async def arm_subscriptions() -> None:
    sample = body("arm_subscriptions_list.json")
    parsed = [parse_arm_subscription(item, TENANT) for item in sample["value"]]
    assert parsed[1] == AzureSubscription(
        customer_tenant_id=TENANT,
        subscription_id="72ac930a-f34e-42d8-b06d-dc2a9e12ed71",
        display_name="Example Subscription2",
        state="Enabled",
        managed_by_tenants=(
            "8f70baf1-1f6e-46a2-a1ff-238dac1ebfb7",
            "f7fb6af2-321d-47c8-9c0f-b0239eaad39a",
        ),
    )
    # The spec example's nextLink is the placeholder "...": not a URL, so not followed.
    async with serving(answer(sample)) as requester:
        with pytest.raises(MalformedResponse):
            await read_all(ArmSubscriptions(requester, ENDPOINTS), TENANT)
    async with serving(answer({**sample, "nextLink": None})) as requester:
        assert await read_all(ArmSubscriptions(requester, ENDPOINTS), TENANT) == parsed


@case("arm_tenants_list.json")
def arm_tenants_not_read() -> None:
    sample = body("arm_tenants_list.json")
    with pytest.raises(MalformedResponse):  # the same "..." placeholder link
        ArmPaginator().page(sample, _request("arm"))
    page = ArmPaginator().page({**sample, "nextLink": None}, _request("arm"))
    assert len(page.items) == 3


# --- Entra ID (read by the token provider, agent/auth/, through MSAL) -----------------------------


@case("entra_token_error_invalid_client.json")
def token_refused() -> None:
    error = error_of("entra_token_error_invalid_client.json")
    assert isinstance(error, AuthError)
    assert error.aadsts == "AADSTS7000215"
    assert "\n" not in str(error)


@case(
    "entra_instance_discovery.json",
    "entra_openid_configuration.json",
    "entra_token_response_client_credentials.json",
)
def identity_platform_documents() -> None:
    # Parsed by MSAL, not by a connector: check the keys MSAL requires are where it reads them.
    openid = body("entra_openid_configuration.json")
    assert openid["token_endpoint"].startswith("https://")
    assert openid["authorization_endpoint"].startswith("https://")
    assert body("entra_instance_discovery.json")["tenant_discovery_endpoint"]
    token = body("entra_token_response_client_credentials.json")
    assert (token["token_type"], type(token["expires_in"])) == ("Bearer", int)


@case("README.md")
def readme() -> None:
    text = (SAMPLES / "README.md").read_text(encoding="utf-8")
    assert "`body`" in text
    assert "utf-8-sig" in text


# --- the runner and the coverage check ----------------------------------------------------------


def _request(scope: str) -> ApiRequest:
    return ApiRequest(
        method="GET", url="https://graph.microsoft.com/v1.0/x", scope=scope, what="sample"
    )


@pytest.mark.anyio
@pytest.mark.parametrize("name", sorted(CASES))
async def test_sample(name: str) -> None:
    outcome = CASES[name]()
    if inspect.isawaitable(outcome):
        await outcome


def test_every_sample_has_a_case() -> None:
    files = {p.name for p in SAMPLES.iterdir() if p.is_file()}
    assert files - set(CASES) == set(), "samples without a contract case"
    assert set(CASES) - files == set(), "cases for samples that no longer exist"
