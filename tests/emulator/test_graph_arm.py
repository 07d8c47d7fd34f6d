"""Graph and ARM as the emulator serves them: shapes, paging, roles, PAL reads and writes."""

from __future__ import annotations

import csv
import io

import httpx
import jwt
import pytest

from standin.emulator import Emulator
from tests.emulator.conftest import MakeEmulator
from tests.emulator.support import (
    APP_ID,
    ARM,
    C1,
    CARRIER,
    CARRIER_ID,
    CARRIER_SECRET,
    GRAPH,
    PARTNER,
    PC,
    SAMPLES,
    SUB1,
    SUB2,
    app_token,
    bearer,
    client,
    keys_of,
    sample,
    world,
)

PAL = "/providers/Microsoft.ManagementPartner/partners"
PAL_VERSION = "api-version=2018-02-01"


@pytest.fixture
def graph(http: httpx.Client) -> dict[str, str]:
    return bearer(app_token(http, PARTNER, GRAPH))


@pytest.fixture
def graph_c1(http: httpx.Client) -> dict[str, str]:
    return bearer(app_token(http, C1, GRAPH))


@pytest.fixture
def arm_c1(http: httpx.Client) -> dict[str, str]:
    return bearer(app_token(http, C1, ARM))


def test_contracts_and_gdap_have_the_documented_shapes(
    http: httpx.Client, graph: dict[str, str]
) -> None:
    answer = http.get("/v1.0/contracts", headers=graph)
    assert answer.headers["x-ms-resource-unit"] == "3"
    contracts = answer.json()
    assert keys_of(sample("graph_contracts_list.json")["value"][0]) == keys_of(
        contracts["value"][0]
    )
    assert [c["customerId"] for c in contracts["value"]] == [
        C1,
        "c0000000-0000-4000-8000-000000000002",
        "c0000000-0000-4000-8000-000000000003",
    ]
    gdap = http.get(
        "/v1.0/tenantRelationships/delegatedAdminRelationships",
        headers=graph,
        params={"$count": "true"},
    ).json()
    assert gdap["@odata.count"] == 1
    doc = sample("graph_delegatedAdminRelationships_list.json")["value"][0]
    assert keys_of(doc) == keys_of(gdap["value"][0])
    assert gdap["value"][0]["customer"]["tenantId"] == C1
    assignments = http.get(
        "/v1.0/tenantRelationships/delegatedAdminRelationships/rel-1/accessAssignments",
        headers=graph,
    ).json()
    assert assignments["value"][0]["accessContainer"]["accessContainerId"] == (
        "6a000000-0000-4000-8000-000000000001"
    )
    active = http.get(
        "/v1.0/tenantRelationships/delegatedAdminRelationships",
        headers=graph,
        params={"$filter": "status eq 'terminated'"},
    ).json()
    assert active["value"] == []
    missing = http.get(
        "/v1.0/tenantRelationships/delegatedAdminRelationships/nope/accessAssignments",
        headers=graph,
    )
    assert missing.status_code == 404
    assert keys_of(missing.json()["error"]) == keys_of(
        sample("graph_error_not_found.json")["error"]
    )


def test_graph_pages_with_odata_next_link(make_emulator: MakeEmulator) -> None:
    data = world()
    data["customers"][0]["gdap"] = [{"id": f"rel-{i}", "status": "active"} for i in range(7)]
    emulator = make_emulator(data)
    with client(emulator.base_url, emulator.ca_path) as http:
        headers = bearer(app_token(http, PARTNER, GRAPH))
        url: str | None = "/v1.0/tenantRelationships/delegatedAdminRelationships?$top=3"
        ids: list[str] = []
        pages = 0
        while url:
            body = http.get(url, headers=headers).json()
            ids += [r["id"] for r in body["value"]]
            url = body.get("@odata.nextLink")
            pages += 1
            if url:
                assert url.startswith(emulator.base_url)
        assert pages == 3
        assert ids == [f"rel-{i}" for i in range(7)]


def test_customer_tenant_licences_and_subscriptions(
    http: httpx.Client, graph_c1: dict[str, str]
) -> None:
    skus = http.get("/v1.0/subscribedSkus", headers=graph_c1).json()
    assert keys_of(sample("graph_subscribedSkus.json")["value"][0]) == keys_of(skus["value"][0])
    assert skus["value"][0]["prepaidUnits"]["enabled"] == 25
    subs = http.get("/v1.0/directory/subscriptions", headers=graph_c1).json()
    doc = sample("graph_directory_subscriptions.json")["value"][0]
    assert keys_of(doc) == keys_of(subs["value"][0])
    assert subs["value"][0]["ownerTenantId"] == PARTNER
    # companySubscription: ownerId is "the object ID of the account admin", ownerType "the
    # entity that ownerId belongs to, for example, 'User'" (not the tenant, not a company).
    assert subs["value"][0]["ownerType"] == doc["ownerType"] == "User"
    assert subs["value"][0]["ownerId"] not in (PARTNER, subs["value"][0]["ownerTenantId"])


def test_identities_service_principal_and_application(
    http: httpx.Client, graph: dict[str, str], graph_c1: dict[str, str]
) -> None:
    sps = http.get(
        "/v1.0/servicePrincipals", headers=graph_c1, params={"$filter": f"appId eq '{CARRIER_ID}'"}
    ).json()
    assert [(s["appId"], s["displayName"], s["accountEnabled"]) for s in sps["value"]] == [
        (CARRIER_ID, CARRIER, True)
    ]
    app = http.get(f"/v1.0/applications(appId='{APP_ID}')", headers=graph).json()
    assert app["passwordCredentials"][0]["endDateTime"] == "2030-01-01T00:00:00Z"
    missing = http.get(f"/v1.0/applications(appId='{APP_ID}')", headers=graph_c1)
    assert missing.status_code == 404


def test_usage_report_redirects_to_a_csv_with_a_bom(
    http: httpx.Client, graph_c1: dict[str, str]
) -> None:
    answer = http.get(
        "/v1.0/reports/getOffice365ServicesUserCounts(period='D30')", headers=graph_c1
    )
    assert answer.status_code == 302
    download = http.get(answer.headers["Location"])  # no Authorization header
    assert download.content.startswith(b"\xef\xbb\xbf")
    text = download.content.decode("utf-8-sig")
    header = (SAMPLES / "graph_report_office365ServicesUserCounts.csv").read_text(
        encoding="utf-8-sig"
    )
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == next(csv.reader(io.StringIO(header)))
    assert len(rows) == 2
    assert dict(zip(rows[0], rows[1], strict=True))["Exchange Active"] == "20"
    bad = http.get("/v1.0/reports/getOffice365ServicesUserCounts(period='D31')", headers=graph_c1)
    assert bad.status_code == 400


def test_graph_checks_application_roles(make_emulator: MakeEmulator) -> None:
    data = world()
    data["partner"]["app"]["roles"] = ["Directory.Read.All"]
    emulator = make_emulator(data)
    with client(emulator.base_url, emulator.ca_path) as http:
        headers = bearer(app_token(http, PARTNER, GRAPH))
        assert http.get("/v1.0/contracts", headers=headers).status_code == 200
        denied = http.get("/v1.0/tenantRelationships/delegatedAdminRelationships", headers=headers)
        assert denied.status_code == 403
        assert denied.json()["error"]["code"] == "Authorization_RequestDenied"


@pytest.mark.parametrize("case", ["missing", "expired", "wrong-audience", "wrong-key"])
def test_graph_and_arm_refuse_bad_tokens(emulator: Emulator, http: httpx.Client, case: str) -> None:
    if case == "missing":
        headers: dict[str, str] = {}
    elif case == "wrong-audience":
        headers = bearer(app_token(http, C1, PC))
    else:
        token = app_token(http, C1, GRAPH)
        payload = jwt.decode(token, options={"verify_signature": False})
        if case == "expired":
            forged = emulator.service.authority.access_token(
                tenant_id=C1, app_id=APP_ID, audience=GRAPH, object_id="x", lifetime=-60
            )
            headers = bearer(forged)
        else:
            headers = bearer(
                jwt.encode(payload, "another-key-entirely-32-bytes-long!", algorithm="HS256")
            )
    graph_answer = http.get("/v1.0/subscribedSkus", headers=headers)
    assert graph_answer.status_code == 401
    assert graph_answer.json()["error"]["code"] == "InvalidAuthenticationToken"
    arm_answer = http.get("/subscriptions?api-version=2022-12-01", headers=headers)
    assert arm_answer.status_code == 401
    expected = {
        "missing": "AuthenticationFailed",
        "expired": "ExpiredAuthenticationToken",
        "wrong-audience": "InvalidAuthenticationTokenAudience",
        "wrong-key": "InvalidAuthenticationToken",
    }[case]
    assert arm_answer.json()["error"]["code"] == expected


# --- ARM --------------------------------------------------------------------------------------


def test_subscriptions_are_those_the_identity_holds_a_role_on(
    http: httpx.Client, arm_c1: dict[str, str]
) -> None:
    answer = http.get("/subscriptions?api-version=2022-12-01", headers=arm_c1)
    body = answer.json()
    assert keys_of(sample("arm_subscriptions_list.json")["value"][0]) == keys_of(body["value"][0])
    assert [s["subscriptionId"] for s in body["value"]] == [SUB1]
    assert body["value"][0]["managedByTenants"] == [{"tenantId": PARTNER}]
    assert int(answer.headers["x-ms-ratelimit-remaining-tenant-reads"]) < 250
    carrier = bearer(app_token(http, C1, ARM, client_id=CARRIER_ID, secret=CARRIER_SECRET))
    listed = http.get("/subscriptions?api-version=2022-12-01", headers=carrier).json()
    assert [s["subscriptionId"] for s in listed["value"]] == [SUB1, SUB2]
    paged = http.get("/subscriptions?api-version=2022-12-01&$top=1", headers=carrier).json()
    assert paged["nextLink"].startswith("https://")
    rest = http.get(paged["nextLink"], headers=carrier).json()
    assert [s["subscriptionId"] for s in rest["value"]] == [SUB2]
    assert "nextLink" not in rest
    assert http.get("/subscriptions", headers=arm_c1).json()["error"]["code"] == (
        "MissingApiVersionParameter"
    )


def test_pal_is_read_as_the_calling_identity(http: httpx.Client, arm_c1: dict[str, str]) -> None:
    linked = http.get(f"{PAL}?{PAL_VERSION}", headers=arm_c1)
    assert linked.status_code == 200
    doc = sample("arm_managementpartner_get.json")
    assert keys_of(doc) == keys_of(linked.json())
    assert keys_of(doc["properties"]) == keys_of(linked.json()["properties"])
    assert linked.json()["properties"]["partnerId"] == "4100002"
    assert "x-ms-ratelimit-remaining-tenant-resource-requests" in linked.headers
    carrier = bearer(app_token(http, C1, ARM, client_id=CARRIER_ID, secret=CARRIER_SECRET))
    not_linked = http.get(f"{PAL}?{PAL_VERSION}", headers=carrier)
    assert not_linked.status_code == 404
    assert not_linked.json() == sample("arm_managementpartner_notfound_error.json")


def test_pal_put_patch_delete_change_the_world(
    http: httpx.Client,
) -> None:
    carrier = bearer(app_token(http, C1, ARM, client_id=CARRIER_ID, secret=CARRIER_SECRET))
    patch = http.patch(f"{PAL}/4100002?{PAL_VERSION}", headers=carrier)
    assert patch.status_code == 404
    invalid = http.put(f"{PAL}/12ab?{PAL_VERSION}", headers=carrier)
    assert invalid.status_code == 400
    assert invalid.json() == sample("arm_managementpartner_invalid_partnerid_error.json")
    put = http.put(f"{PAL}/4100002?{PAL_VERSION}", headers=carrier)
    assert put.status_code == 200
    assert put.json()["properties"]["partnerId"] == "4100002"
    assert "x-ms-ratelimit-remaining-tenant-writes" in put.headers
    read = http.get(f"{PAL}?{PAL_VERSION}", headers=carrier).json()
    assert read["properties"]["partnerId"] == "4100002"
    assert http.get(f"{PAL}/4100002?{PAL_VERSION}", headers=carrier).status_code == 200
    moved = http.patch(f"{PAL}/4100003?{PAL_VERSION}", headers=carrier).json()
    assert moved["properties"]["partnerId"] == "4100003"
    assert moved["properties"]["version"] > read["properties"]["version"]
    deleted = http.delete(f"{PAL}/4100003?{PAL_VERSION}", headers=carrier)
    assert deleted.status_code == 200
    assert deleted.content == b""
    assert http.get(f"{PAL}?{PAL_VERSION}", headers=carrier).status_code == 404
    # The partner's app in the same tenant kept its own link.
    app = bearer(app_token(http, C1, ARM))
    assert http.get(f"{PAL}?{PAL_VERSION}", headers=app).status_code == 200
