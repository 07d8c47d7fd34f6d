"""Graph connectors: GDAP with assignments, reports through a pre-authenticated redirect,
service principals with their credential expiry."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from connectors.errors import MalformedResponse, PermanentError, TransientError
from connectors.graph.app_credentials import thumbprint_of
from connectors.graph.connector import odata_query
from connectors.graph.contracts import GraphContracts
from connectors.graph.gdap import GraphGdap
from connectors.graph.identities import GraphIdentities
from connectors.graph.licences import GraphDirectorySubscriptions, GraphSubscribedSkus
from connectors.graph.reports import REPORT_COLUMNS, GraphUsageReports, parse_services_user_counts
from connectors.http.requester import Requester
from connectors.records.customers import Contract
from connectors.records.gdap import GdapAccessAssignment, GdapRelationship, GdapStatus
from connectors.records.licences import ActiveUsers, DirectorySubscription, SubscribedSku
from connectors.records.pal import CredentialEnd, Identity
from standin.answers import M365_WORKLOADS
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

HEADER = (
    "Report Refresh Date,Exchange Active,Exchange Inactive,OneDrive Active,OneDrive Inactive,"
    "SharePoint Active,SharePoint Inactive,Skype For Business Active,Skype For Business "
    "Inactive,Yammer Active,Yammer Inactive,Teams Active,Teams Inactive,Office 365 Active,"
    "Office 365 Inactive,Report Period"
)
ROW = "2026-11-01,24,1,9,16,18,7,0,25,0,25,22,3,24,1,30"
REL = "c0000000-0000-4000-8000-000000000001-rel1"


def test_report_columns_follow_the_fake_workload_order() -> None:
    assert tuple(REPORT_COLUMNS) == M365_WORKLOADS


def test_odata_query_keeps_dollar_and_encodes_spaces() -> None:
    assert odata_query({"$filter": "appId eq 'x'", "$top": "1"}) == (
        "$filter=appId%20eq%20'x'&$top=1"
    )


async def test_usage_report_follows_302_without_authorization_and_strips_the_bom(
    requester_for: Callable[..., Requester],
) -> None:
    seen: list[httpx.Request] = []
    csv = ("\ufeff" + HEADER + "\r\n" + ROW + "\r\n").encode("utf-8")

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.host == "graph.microsoft.com":
            return httpx.Response(
                302,
                headers={"Location": "https://reports.office.com/data/abc.csv?sv=1&sig=SECRETSIG"},
            )
        return httpx.Response(
            200, content=csv, headers={"Content-Type": "application/octet-stream"}
        )

    connector = GraphUsageReports(requester_for(handler), ENDPOINTS, partner_tenant_id=PARTNER)
    records = only(ActiveUsers, await read_all(connector, CUSTOMER))
    assert seen[0].url.path == "/v1.0/reports/getOffice365ServicesUserCounts(period='D30')"
    assert seen[0].headers["Authorization"].startswith("Bearer ")
    assert "Authorization" not in seen[1].headers
    assert [r.workload for r in records] == list(M365_WORKLOADS)
    assert records[0] == ActiveUsers(
        customer_tenant_id=CUSTOMER,
        workload="exchange",
        active_users=24,
        report_refresh_date="2026-11-01",
        period="D30",
    )
    assert {r.workload: r.active_users for r in records}["office365"] == 24


def test_report_csv_with_header_only_yields_nothing() -> None:
    assert parse_services_user_counts(("\ufeff" + HEADER + "\n").encode(), CUSTOMER) == []


def test_report_csv_with_missing_columns_is_malformed() -> None:
    with pytest.raises(MalformedResponse, match="Teams Active"):
        parse_services_user_counts(HEADER.replace("Teams Active", "Teams").encode(), CUSTOMER)


def test_report_csv_with_a_word_for_a_count_is_malformed() -> None:
    with pytest.raises(MalformedResponse):
        parse_services_user_counts(
            (HEADER + "\n" + ROW.replace(",24,1,", ",many,1,", 1)).encode(), CUSTOMER
        )


async def test_report_download_failure_is_an_error(requester_for: Callable[..., Requester]) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.host == "graph.microsoft.com":
            return httpx.Response(302, headers={"Location": "https://reports.office.com/x"})
        return httpx.Response(503)

    connector = GraphUsageReports(requester_for(handler), ENDPOINTS, partner_tenant_id=PARTNER)
    with pytest.raises(TransientError):
        [r async for r in connector.fetch(CUSTOMER)]


def relationship(status: str) -> dict[str, Any]:
    return {
        "id": REL,
        "displayName": "Managed services 1",
        "duration": "P730D",
        "customer": {"tenantId": CUSTOMER.upper(), "displayName": "Alpine Dairy Co-op"},
        "accessDetails": {
            "unifiedRoles": [{"roleDefinitionId": "729827E3-9C14-49F7-BB1B-9608F156BBB8"}]
        },
        "status": status,
        "autoExtendDuration": "P180D",
        "activatedDateTime": "2026-01-01T00:00:00.0000000Z",
        "endDateTime": "2028-01-01T00:00:00.0000000Z",
    }


async def test_gdap_yields_relationships_and_their_assignments(
    requester_for: Callable[..., Requester],
) -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        if request.url.path.endswith("/accessAssignments"):
            return httpx.Response(
                200,
                json={
                    "value": [
                        {
                            "id": "aa1",
                            "status": "active",
                            "accessContainer": {
                                "accessContainerId": "6A000000-0000-4000-8000-000000000001",
                                "accessContainerType": "securityGroup",
                            },
                            "accessDetails": {"unifiedRoles": [{"roleDefinitionId": "ABC"}]},
                        }
                    ]
                },
            )
        return httpx.Response(
            200, json={"@odata.count": 1, "value": [relationship("someFutureState")]}
        )

    connector = GraphGdap(requester_for(handler), ENDPOINTS, partner_tenant_id=PARTNER)
    records = [r async for r in connector.fetch(None)]
    assert "$top=300" in seen[0]
    assert "$count=true" in seen[0]
    rel, assignment = records
    assert isinstance(rel, GdapRelationship)
    assert rel.status is GdapStatus.UNKNOWN
    assert rel.raw_status == "someFutureState"
    assert rel.customer_tenant_id == CUSTOMER
    assert rel.roles == ("729827e3-9c14-49f7-bb1b-9608f156bbb8",)
    assert rel.activated == datetime(2026, 1, 1, tzinfo=UTC)
    assert assignment == GdapAccessAssignment(
        assignment_id="aa1",
        relationship_id=REL,
        customer_tenant_id=CUSTOMER,
        group_id="6a000000-0000-4000-8000-000000000001",
        roles=("abc",),
        status="active",
    )


async def test_gdap_assignment_failure_fails_the_source(
    requester_for: Callable[..., Requester],
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/accessAssignments"):
            return httpx.Response(503)
        return httpx.Response(200, json={"value": [relationship("active")] * 3})

    connector = GraphGdap(
        requester_for(handler), ENDPOINTS, partner_tenant_id=PARTNER, concurrency=2
    )
    with pytest.raises(TransientError):
        [r async for r in connector.fetch(None)]


def paged_relationships(total: int, page: int) -> Callable[[httpx.Request], dict[str, Any]]:
    """A GDAP listing of ``total`` relationships, ``page`` to a page, linked by nextLink."""

    def answer(request: httpx.Request) -> dict[str, Any]:
        start = int(request.url.params.get("$skiptoken", "0"))
        items = []
        for n in range(start, min(total, start + page)):
            item = relationship("active")
            item["id"] = f"rel-{n:03d}"
            items.append(item)
        body: dict[str, Any] = {"@odata.count": total, "value": items}
        if start + page < total:
            body["@odata.nextLink"] = (
                f"https://graph.microsoft.com/v1.0/tenantRelationships/"
                f"delegatedAdminRelationships?$skiptoken={start + page}"
            )
        return body

    return answer


async def test_gdap_streams_the_listing_with_bounded_assignment_reads(
    requester_for: Callable[..., Requester],
) -> None:
    """Assignments are read while the listing goes on, never more than ``concurrency`` at once,
    and the records come out in listing order: the connector holds a window, not the
    estate."""
    listing = paged_relationships(total=10, page=4)
    events: list[str] = []
    in_flight = 0
    most = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, most
        if request.url.path.endswith("/accessAssignments"):
            in_flight += 1
            most = max(most, in_flight)
            relationship_id = request.url.path.split("/")[-2]
            events.append(f"assignments {relationship_id}")
            await asyncio.sleep(0.001 * (hash(relationship_id) % 3))
            in_flight -= 1
            return httpx.Response(
                200,
                json={
                    "value": [
                        {
                            "id": f"aa-{relationship_id}",
                            "status": "active",
                            "accessContainer": {
                                "accessContainerId": "g",
                                "accessContainerType": "x",
                            },
                            "accessDetails": {"unifiedRoles": [{"roleDefinitionId": "r"}]},
                        }
                    ]
                },
            )
        events.append(f"page {request.url.params.get('$skiptoken', '0')}")
        return httpx.Response(200, json=listing(request))

    connector = GraphGdap(
        requester_for(handler), ENDPOINTS, partner_tenant_id=PARTNER, concurrency=3
    )
    records = [r async for r in connector.fetch(None)]
    expected: list[str] = []
    for n in range(10):
        expected += [f"rel-{n:03d}", f"aa-rel-{n:03d}"]
    assert [
        r.relationship_id if isinstance(r, GdapRelationship) else r.assignment_id  # type: ignore[attr-defined]
        for r in records
    ] == expected
    assert most <= 3
    # The second page is asked for only after assignment reads of the first have started.
    assert events.index("page 4") > events.index("assignments rel-000")


async def test_gdap_one_slow_assignment_read_does_not_hold_back_the_others(
    requester_for: Callable[..., Requester],
) -> None:
    """The first relationship's read answers last: every other read starts and finishes
    meanwhile, ``concurrency`` at a time (a head-of-line wait would stall at the first)."""
    listing = paged_relationships(total=8, page=8)
    others_done = asyncio.Event()
    finished: list[str] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/accessAssignments"):
            relationship_id = request.url.path.split("/")[-2]
            if relationship_id == "rel-000":
                await asyncio.wait_for(others_done.wait(), 5)
            finished.append(relationship_id)
            if len(finished) == 7:
                others_done.set()
            return httpx.Response(200, json={"value": []})
        return httpx.Response(200, json=listing(request))

    connector = GraphGdap(
        requester_for(handler), ENDPOINTS, partner_tenant_id=PARTNER, concurrency=2
    )
    records = [r async for r in connector.fetch(None)]
    assert finished[-1] == "rel-000"
    assert [r.relationship_id for r in records] == [f"rel-{n:03d}" for n in range(8)]  # type: ignore[attr-defined]


async def test_gdap_failure_cancels_the_reads_in_flight(
    requester_for: Callable[..., Requester],
) -> None:
    listing = paged_relationships(total=6, page=6)
    started: list[str] = []
    finished: list[str] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/accessAssignments"):
            relationship_id = request.url.path.split("/")[-2]
            started.append(relationship_id)
            if relationship_id == "rel-000":
                return httpx.Response(404, json={"error": {"code": "NotFound"}})
            await asyncio.sleep(3600)
            finished.append(relationship_id)
            return httpx.Response(200, json={"value": []})
        return httpx.Response(200, json=listing(request))

    connector = GraphGdap(
        requester_for(handler), ENDPOINTS, partner_tenant_id=PARTNER, concurrency=4
    )
    with pytest.raises(PermanentError):
        [r async for r in connector.fetch(None)]
    assert started == ["rel-000", "rel-001", "rel-002", "rel-003"]
    assert finished == []
    leftover = [
        t
        for t in asyncio.all_tasks()
        if getattr(t.get_coro(), "__qualname__", "").endswith("_assignments")
    ]
    assert leftover == []


async def test_contracts_skus_and_directory_subscriptions(
    requester_for: Callable[..., Requester], tokens: CountingTokens
) -> None:
    answers = {
        "/v1.0/contracts": {
            "value": [
                {
                    "id": "x",
                    "contractType": "ResellerPartner",
                    "customerId": CUSTOMER.upper(),
                    "displayName": "Alpine",
                    "defaultDomainName": "alpine.example",
                }
            ]
        },
        "/v1.0/subscribedSkus": {
            "value": [
                {
                    "skuId": "F245ECC8-75AF-4F8E-B61F-27D8114DE5F3",
                    "skuPartNumber": "O365_BUSINESS_PREMIUM",
                    "capabilityStatus": "Enabled",
                    "consumedUnits": 21,
                    "prepaidUnits": {"enabled": 25},
                }
            ]
        },
        "/v1.0/directory/subscriptions": {
            "value": [
                {
                    "id": "D0000001-0000-4000-8000-000000000001",
                    "commerceSubscriptionId": "c",
                    "skuId": "F245ECC8-75AF-4F8E-B61F-27D8114DE5F3",
                    "status": "Enabled",
                    "totalLicenses": 25,
                    "ownerTenantId": PARTNER.upper(),
                    "isTrial": False,
                }
            ]
        },
    }
    requester = requester_for(lambda r: httpx.Response(200, json=answers[r.url.path]))
    [contract] = only(
        Contract,
        await read_all(GraphContracts(requester, ENDPOINTS, partner_tenant_id=PARTNER), None),
    )
    assert (contract.customer_tenant_id, contract.default_domain) == (CUSTOMER, "alpine.example")
    [sku] = only(
        SubscribedSku,
        await read_all(
            GraphSubscribedSkus(requester, ENDPOINTS, partner_tenant_id=PARTNER), CUSTOMER
        ),
    )
    assert (sku.sku_id, sku.enabled_units, sku.consumed_units) == (
        "f245ecc8-75af-4f8e-b61f-27d8114de5f3",
        25,
        21,
    )
    [sub] = only(
        DirectorySubscription,
        await read_all(
            GraphDirectorySubscriptions(requester, ENDPOINTS, partner_tenant_id=PARTNER), CUSTOMER
        ),
    )
    assert sub.owner_tenant_id == PARTNER
    assert sub.commerce_subscription_id is None  # as the fake (the contract) has it
    assert [c["tenant"] for c in tokens.calls] == [PARTNER, CUSTOMER, CUSTOMER]


async def test_identities_read_service_principals_and_cache_app_expiry(
    requester_for: Callable[..., Requester], vclock: VirtualClock, tokens: CountingTokens
) -> None:
    partner_app, carrier = "a9900000-0000-4000-8000-0000000000a1", "a99-carrier"
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        if request.url.path == "/v1.0/servicePrincipals":
            assert request.url.params["$filter"] in (
                f"appId eq '{partner_app}'",
                f"appId eq '{carrier}'",
            )
            if carrier in request.url.params["$filter"]:
                return httpx.Response(200, json={"value": []})
            return httpx.Response(
                200,
                json={
                    "value": [
                        {
                            "id": "0B000001-0000-4000-8000-000000000001",
                            "appId": partner_app,
                            "displayName": "partner-app",
                            "accountEnabled": False,
                        }
                    ]
                },
            )
        return httpx.Response(
            200,
            json={
                "passwordCredentials": [
                    {"endDateTime": "2027-01-01T00:00:00Z", "hint": "abc", "keyId": "K1"},
                    {"endDateTime": "2028-05-01T00:00:00Z", "displayName": "new"},
                ],
                "keyCredentials": [
                    {
                        "endDateTime": "2027-06-01T00:00:00Z",
                        "customKeyIdentifier": base64.b64encode(bytes(range(20))).decode(),
                    }
                ],
            },
        )

    connector = GraphIdentities(
        requester_for(handler),
        ENDPOINTS,
        partner_tenant_id=PARTNER,
        apps={"partner-app": partner_app.upper(), "pal-carrier-ops": carrier},
        clock=vclock,
    )
    [identity] = [r async for r in connector.fetch(CUSTOMER)]
    assert identity == Identity(
        customer_tenant_id=CUSTOMER,
        identity="partner-app",
        object_id="0b000001-0000-4000-8000-000000000001",
        app_id=partner_app,
        display_name="partner-app",
        enabled=False,
        credential_expires=datetime(2028, 5, 1, tzinfo=UTC),
        credentials=(
            CredentialEnd(kind="secret", ends=datetime(2028, 5, 1, tzinfo=UTC), name="new"),
            CredentialEnd(
                kind="certificate",
                ends=datetime(2027, 6, 1, tzinfo=UTC),
                thumbprint=bytes(range(20)).hex().upper(),
            ),
            CredentialEnd(kind="secret", key_id="k1", ends=datetime(2027, 1, 1, tzinfo=UTC)),
        ),
    )
    assert "abc" not in repr(identity), "a secret's hint is never kept"
    [r async for r in connector.fetch(CUSTOMER)]
    assert calls.count(f"/v1.0/applications(appId='{partner_app}')") == 1
    app_calls = [c for c in tokens.calls if c["tenant"] == PARTNER]
    assert len(app_calls) == 1  # the app registration is read in the partner tenant


async def test_concurrent_reads_of_one_app_registration_run_once(
    requester_for: Callable[..., Requester],
) -> None:
    """Every customer's identities read asks for the same app's credentials at once: one
    request goes out and every reader gets its answer."""
    app_id = "a9900000-0000-4000-8000-0000000000a1"
    customers = [f"c0000000-0000-4000-8000-0000000000{n:02d}" for n in range(12)]
    reads: list[str] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1.0/servicePrincipals":
            return httpx.Response(200, json={"value": [{"id": "sp", "appId": app_id}]})
        reads.append(request.url.path)
        await asyncio.sleep(0.02)  # still in flight while the other customers ask
        expiry = {"endDateTime": "2027-01-01T00:00:00Z"}
        return httpx.Response(200, json={"passwordCredentials": [expiry]})

    connector = GraphIdentities(
        requester_for(handler), ENDPOINTS, partner_tenant_id=PARTNER, apps={"partner-app": app_id}
    )
    found = await asyncio.gather(*(read_all(connector, c) for c in customers))
    assert reads == [f"/v1.0/applications(appId='{app_id}')"]
    expiries = {r.credential_expires for records in found for r in records}  # type: ignore[attr-defined]
    assert expiries == {datetime(2027, 1, 1, tzinfo=UTC)}
    assert sum(len(records) for records in found) == len(customers)


async def test_a_failed_app_registration_read_fails_every_reader_that_shared_it(
    requester_for: Callable[..., Requester],
) -> None:
    reads: list[str] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1.0/servicePrincipals":
            return httpx.Response(200, json={"value": [{"id": "sp", "appId": "app"}]})
        reads.append(request.url.path)
        await asyncio.sleep(0.02)
        return httpx.Response(400, json={"error": {"code": "BadRequest", "message": "no"}})

    connector = GraphIdentities(
        requester_for(handler), ENDPOINTS, partner_tenant_id=PARTNER, apps={"partner-app": "app"}
    )
    outcomes = await asyncio.gather(
        *(read_all(connector, CUSTOMER) for _ in range(4)), return_exceptions=True
    )
    assert all(isinstance(o, PermanentError) for o in outcomes)
    assert len(reads) == 1
    with pytest.raises(PermanentError):  # a later reader asks again: errors are not cached
        await read_all(connector, CUSTOMER)
    assert len(reads) == 2


async def test_identities_with_a_deleted_app_registration_have_no_expiry(
    requester_for: Callable[..., Requester],
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1.0/servicePrincipals":
            return httpx.Response(200, json={"value": [{"id": "X", "appId": "app"}]})
        return httpx.Response(
            404, json={"error": {"code": "Request_ResourceNotFound", "message": "gone"}}
        )

    connector = GraphIdentities(
        requester_for(handler), ENDPOINTS, partner_tenant_id=PARTNER, apps={"partner-app": "app"}
    )
    [identity] = only(Identity, await read_all(connector, CUSTOMER))
    assert identity.credential_expires is None


def test_a_certificates_thumbprint_is_read_from_base64_or_hex_and_nothing_else() -> None:
    raw = bytes(range(20))
    assert thumbprint_of(base64.b64encode(raw).decode()) == raw.hex().upper()
    assert thumbprint_of(raw.hex()) == raw.hex().upper()
    assert thumbprint_of("not base64 at all!") is None
    assert thumbprint_of(base64.b64encode(b"short").decode()) is None
    assert thumbprint_of(None) is None
