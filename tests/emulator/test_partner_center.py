"""Partner Center and Insights as the emulator serves them: shapes, paging, auth, relationships."""

from __future__ import annotations

import csv
import io
import json

import httpx
import pytest

from connectors.records.scope import Source
from connectors.sources import source_row
from standin.emulator import Emulator
from tests.emulator.conftest import MakeEmulator
from tests.emulator.support import (
    C1,
    C2,
    C3,
    CARRIER_ID,
    CARRIER_SECRET,
    GRAPH,
    PARTNER,
    PC,
    app_token,
    bearer,
    client,
    keys_of,
    many_customers,
    sample,
    user_token,
    world,
)


@pytest.fixture
def pc(http: httpx.Client) -> dict[str, str]:
    return bearer(app_token(http, PARTNER, PC))


@pytest.fixture
def pc_user(emulator: Emulator, http: httpx.Client) -> dict[str, str]:
    return bearer(user_token(http, emulator.issue_refresh_token())["access_token"])


def test_customers_have_the_documented_shape(http: httpx.Client, pc: dict[str, str]) -> None:
    body = http.get("/v1/customers", headers=pc).json()
    doc = sample("partnercenter_customers_list.json")
    assert keys_of(doc) <= keys_of(body)
    assert body["totalCount"] == 2  # C3 has no Partner Center relationship
    first = body["items"][0]
    assert keys_of(doc["items"][0]) <= keys_of(first)
    assert keys_of(doc["items"][0]["companyProfile"]) <= keys_of(first["companyProfile"])
    assert first["id"] == C1
    assert first["relationshipToPartner"] == "reseller"
    assert first["allowDelegatedAccess"] is True
    assert keys_of(sample("partnercenter_customer_get.json")) >= {"customDomains"}
    assert "next" not in body["links"]


def test_customers_page_with_links_next_and_the_continuation_header(
    make_emulator: MakeEmulator,
) -> None:
    size = source_row(Source.PC_CUSTOMERS).page_size
    emulator = make_emulator(world(customers=many_customers(2 * size + 5)))
    with client(emulator.base_url, emulator.ca_path) as http:
        headers = bearer(app_token(http, PARTNER, PC))
        seen: list[str] = []
        uri, extra = "/customers", {}
        pages = 0
        while True:
            body = http.get(f"/v1{uri}", headers={**headers, **extra}).json()
            pages += 1
            assert body["totalCount"] == 2 * size + 5
            seen += [c["id"] for c in body["items"]]
            following = body["links"].get("next")
            if following is None:
                break
            assert "seekOperation=Next" in following["uri"]
            assert following["headers"][0]["key"] == "MS-ContinuationToken"
            assert body["continuationToken"] == following["headers"][0]["value"]
            uri = following["uri"]
            extra = {h["key"]: h["value"] for h in following["headers"]}
        assert pages == 3
        assert len(seen) == len(set(seen)) == 2 * size + 5
        missing = http.get("/v1/customers?size=100&seekOperation=Next", headers=headers)
        assert missing.status_code == 400


def test_subscriptions_shape_and_the_no_relationship_error(
    http: httpx.Client, pc: dict[str, str]
) -> None:
    body = http.get(f"/v1/customers/{C1}/subscriptions", headers=pc).json()
    item = body["items"][0]
    assert keys_of(sample("partnercenter_subscriptions_list.json")["items"][0]) <= keys_of(item)
    assert item["partnerId"] == "5200001"
    for tenant in (C3, "c9999999-0000-4000-8000-000000000000"):
        refused = http.get(f"/v1/customers/{tenant}/subscriptions", headers=pc)
        assert refused.status_code == 403
        assert refused.json() == sample("partnercenter_error_no_relationship.json")
    filtered = http.get(f"/v1/customers/{C1}/subscriptions?mpn_id=9999999", headers=pc).json()
    assert filtered["totalCount"] == 0


def test_audit_records_need_a_start_date_and_have_the_documented_shape(
    http: httpx.Client, pc: dict[str, str]
) -> None:
    assert http.get("/v1/auditrecords", headers=pc).status_code == 400
    body = http.get("/v1/auditrecords?startDate=2026-10-02", headers=pc).json()
    assert [r["id"] for r in body["items"]] == ["ev-2"]
    every = http.get("/v1/auditrecords?startDate=2026-01-01", headers=pc).json()
    expected = keys_of(sample("partnercenter_auditrecords.json")["items"][0]) - {"customerName"}
    assert expected <= keys_of(every["items"][0])
    only_c1 = http.get(
        "/v1/auditrecords",
        headers=pc,
        params={
            "startDate": "2026-01-01",
            "filter": json.dumps({"Field": "CustomerId", "Value": C1, "Operator": "equals"}),
        },
    ).json()
    assert [r["id"] for r in only_c1["items"]] == ["ev-1"]


def test_usage_endpoints_need_an_app_user_token(
    http: httpx.Client, pc: dict[str, str], pc_user: dict[str, str]
) -> None:
    for path in (
        f"/v1/customers/{C1}/subscriptions/usagerecords",
        f"/v1/customers/{C1}/analytics/licenses/usage",
    ):
        refused = http.get(path, headers=pc)
        assert refused.status_code == 403
        assert refused.json() == sample("partnercenter_error_authorization_failed.json")
    usage = http.get(f"/v1/customers/{C1}/subscriptions/usagerecords", headers=pc_user).json()
    doc = sample("partnercenter_subscription_usagerecords.json")["items"][0]
    assert keys_of(doc) <= keys_of(usage["items"][0])
    assert usage["items"][0]["partnerOnRecord"] == "4100002"
    licences = http.get(f"/v1/customers/{C1}/analytics/licenses/usage", headers=pc_user).json()
    doc = sample("partnercenter_licenses_usage_customer.json")["items"][0]
    assert keys_of(doc) <= keys_of(licences["items"][0])


@pytest.mark.parametrize("case", ["missing", "garbage", "graph-audience", "customer-tenant"])
def test_partner_center_refuses_bad_tokens_with_401(http: httpx.Client, case: str) -> None:
    headers = {
        "missing": {},
        "garbage": bearer("not.a.token"),
        "graph-audience": bearer(app_token(http, PARTNER, GRAPH)),
        "customer-tenant": bearer(app_token(http, C1, PC)),
    }[case]
    answer = http.get("/v1/customers", headers=headers)
    assert answer.status_code == 401
    assert set(answer.json()) == {"code", "description", "data", "source"}
    assert "WWW-Authenticate" in answer.headers


def test_a_carrier_is_not_a_partner_center_app(http: httpx.Client) -> None:
    token = app_token(http, PARTNER, PC, client_id=CARRIER_ID, secret=CARRIER_SECRET)
    answer = http.get("/v1/customers", headers=bearer(token))
    assert answer.status_code == 403
    assert answer.json()["code"] == 1002


def test_request_ids_are_echoed(http: httpx.Client, pc: dict[str, str]) -> None:
    answer = http.get(
        "/v1/customers", headers={**pc, "MS-CorrelationId": "abc", "MS-RequestId": "def"}
    )
    assert answer.headers["MS-CorrelationId"] == "abc"
    assert answer.headers["MS-RequestId"] == "def"


# --- Insights ---------------------------------------------------------------------------------


def test_insights_flow_ends_in_a_csv_of_attribution_rows(
    http: httpx.Client, pc_user: dict[str, str]
) -> None:
    base = "/insights/v1/mpn"
    datasets = http.get(f"{base}/ScheduledDataset", headers=pc_user).json()
    assert keys_of(sample("partnercenter_insights_dataset.json")) == keys_of(datasets)
    assert keys_of(sample("partnercenter_insights_dataset.json")["value"][0]) == keys_of(
        datasets["value"][0]
    )
    created = http.post(
        f"{base}/ScheduledQueries",
        headers=pc_user,
        json={
            "Name": "azure",
            "Description": "PAL",
            "Query": "SELECT CustomerTenantId, SubscriptionId, MPNId, PartnerAttributionType, ACR_USD,"
            " Month FROM AzureUsage TIMESPAN LAST_MONTH",
        },
    ).json()
    assert keys_of(created["value"][0]) == keys_of(
        sample("partnercenter_insights_query_create.json")["value"][0]
    )
    query_id = created["value"][0]["queryId"]
    test = http.get(
        f"{base}/ScheduledQueries/testQueryResult", headers=pc_user, params={"queryId": query_id}
    ).json()
    assert test["value"] == [
        {
            "CustomerTenantId": C1,
            "SubscriptionId": "50000001-0000-4000-8000-000000000001",
            "MPNID": "4100002",  # AzureUsage spells it so (the data definitions)
            "PartnerAttributionType": "PAL",
            "ACR_USD": 4200.0,
            "Month": "2026-10",
        }
    ]
    report = http.post(
        f"{base}/ScheduledReport",
        headers=pc_user,
        json={
            "ReportName": "r",
            "QueryId": query_id,
            "ExecuteNow": True,
            "Format": "csv",
        },
    ).json()
    assert keys_of(report["value"][0]) == keys_of(
        sample("partnercenter_insights_report_create.json")["value"][0]
    )
    report_id = report["value"][0]["reportId"]
    execution = http.get(
        f"{base}/ScheduledReport/execution/{report_id}",
        headers=pc_user,
        params={"getLatestExecution": "true"},
    ).json()
    assert keys_of(execution["value"][0]) == keys_of(
        sample("partnercenter_insights_report_execution.json")["value"][0]
    )
    assert execution["value"][0]["executionStatus"] == "Completed"
    link = execution["value"][0]["reportAccessSecureLink"]
    download = http.get(link)  # pre-authenticated: no Authorization header
    rows = list(csv.DictReader(io.StringIO(download.text)))
    assert rows == [
        {
            "CustomerTenantId": C1,
            "SubscriptionId": "50000001-0000-4000-8000-000000000001",
            "MPNID": "4100002",
            "PartnerAttributionType": "PAL",
            "ACR_USD": "4200.0",
            "Month": "2026-10",
        }
    ]


def test_insights_refuses_app_only_tokens_and_bad_queries(
    http: httpx.Client, pc: dict[str, str], pc_user: dict[str, str]
) -> None:
    refused = http.get("/insights/v1/mpn/ScheduledDataset", headers=pc)
    assert refused.status_code == 403
    assert keys_of(refused.json()) == keys_of(sample("partnercenter_insights_dataset.json"))
    bad = http.post(
        "/insights/v1/mpn/ScheduledQueries",
        headers=pc_user,
        json={"Name": "x", "Query": "SELECT Nope FROM OfficeUsage"},
    )
    assert bad.status_code == 400
    assert bad.json()["statusCode"] == 400
    unknown = http.post(
        "/insights/v1/mpn/ScheduledQueries",
        headers=pc_user,
        json={"Name": "x", "Query": "SELECT * FROM Elsewhere"},
    )
    assert unknown.status_code == 400


def test_customers_of_another_tenant_are_unknown_to_partner_center(
    http: httpx.Client, pc: dict[str, str]
) -> None:
    answer = http.get(f"/v1/customers/{C2}", headers=pc)
    assert answer.status_code == 200
    assert answer.json()["companyProfile"]["companyName"] == "Birch Logistics"


def test_each_insights_dataset_selects_its_own_documented_columns(
    http: httpx.Client, pc_user: dict[str, str]
) -> None:
    """DynamicsUsage names the association PartnerAttachType (the dataset sample's column
    list); asking it for PartnerAttributionType is refused, as the service refuses it."""
    base = "/insights/v1/mpn"
    listed = http.get(f"{base}/ScheduledDataset?datasetName=DynamicsUsage", headers=pc_user)
    dynamics = listed.json()["value"][0]["selectableColumns"]
    documented = sample("partnercenter_insights_dataset.json")["value"][0]["selectableColumns"]

    def query(columns: str) -> httpx.Response:
        return http.post(
            f"{base}/ScheduledQueries",
            headers=pc_user,
            json={"Name": "d", "Query": f"SELECT {columns} FROM DynamicsUsage"},
        )

    assert dynamics == documented
    assert query("CustomerTenantId, PartnerAttachType").status_code == 200
    refused = query("CustomerTenantId, PartnerAttributionType")
    assert refused.status_code == 400 and "PartnerAttributionType" in refused.text
