"""What stands between the agent and a customer's data, as the emulator serves it: consent
refused in Microsoft's words, the app role assignments of the partner's app per tenant (and the
403 Graph answers where one is missing), a subscription without an Azure role, and carriers
deleted or disabled."""

from __future__ import annotations

import copy
from typing import Any

import httpx

from tests.emulator.conftest import MakeEmulator
from tests.emulator.support import (
    APP_ID,
    ARM,
    C1,
    C2,
    CARRIER_ID,
    CARRIER_SECRET,
    GRAPH,
    PARTNER,
    SUB1,
    SUB2,
    app_token,
    bearer,
    client,
    world,
)

GRAPH_APP = "00000003-0000-0000-c000-000000000000"
SUB_READ = "api-version=2022-12-01"
LIMITED = ["Application.Read.All", "Organization.Read.All"]


def _world(**changes: Any) -> dict[str, Any]:
    data = world()
    for key, value in changes.items():
        if key == "carrier":
            data["partner"]["carriers"][0].update(value)
        else:
            index = {"c1": 0, "c2": 1}[key]
            data["customers"][index].update(copy.deepcopy(value))
    return data


def _token_answer(http: httpx.Client, tenant: str, client_id: str, secret: str) -> httpx.Response:
    return http.post(
        f"/{tenant}/oauth2/v2.0/token",
        data={
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": secret,
            "scope": f"{ARM}/.default",
        },
    )


def _role_names(http: httpx.Client, tenant: str) -> list[str]:
    """The partner app's Graph roles in ``tenant`` as a client reads them from the directory."""
    headers = bearer(app_token(http, tenant, GRAPH))
    graph_sp = http.get(
        f"/v1.0/servicePrincipals(appId='{GRAPH_APP}')",
        params={"$select": "id,appRoles"},
        headers=headers,
    ).json()
    by_id = {r["id"]: r["value"] for r in graph_sp["appRoles"]}
    answer = http.get(
        f"/v1.0/servicePrincipals(appId='{APP_ID}')/appRoleAssignments", headers=headers
    )
    assert answer.status_code == 200, answer.text
    assignments = answer.json()["value"]
    assert {a["resourceId"] for a in assignments} == {graph_sp["id"]}
    assert {a["principalType"] for a in assignments} == {"ServicePrincipal"}
    return sorted(by_id[a["appRoleId"]] for a in assignments)


def test_the_directory_shows_the_read_only_default_roles_in_a_consented_tenant(
    http: httpx.Client,
) -> None:
    assert _role_names(http, C1) == [
        "Application.Read.All",
        "DelegatedAdminRelationship.Read.All",
        "Directory.Read.All",
        "Organization.Read.All",
        "Reports.Read.All",
    ]


def test_a_tenant_that_granted_fewer_roles_shows_them_and_refuses_the_rest(
    make_emulator: MakeEmulator,
) -> None:
    emulator = make_emulator(_world(c1={"app_roles": LIMITED}))
    with client(emulator.base_url, emulator.ca_path) as http:
        assert _role_names(http, C1) == LIMITED
        assert "Reports.Read.All" in _role_names(http, PARTNER), "the partner tenant keeps its own"
        headers = bearer(app_token(http, C1, GRAPH))
        assert http.get("/v1.0/subscribedSkus", headers=headers).status_code == 200
        refused = http.get(
            "/v1.0/reports/getOffice365ServicesUserCounts(period='D30')", headers=headers
        )
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "Authorization_RequestDenied"


def test_a_service_principal_that_is_not_in_the_tenant_is_not_found(http: httpx.Client) -> None:
    headers = bearer(app_token(http, C1, GRAPH))
    missing = "a9900000-0000-4000-8000-0000000000ff"
    answer = http.get(
        f"/v1.0/servicePrincipals(appId='{missing}')/appRoleAssignments", headers=headers
    )
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "Request_ResourceNotFound"


def test_a_subscription_without_a_role_is_forbidden_and_an_unknown_one_not_found(
    http: httpx.Client,
) -> None:
    headers = bearer(app_token(http, C1, ARM))
    assert http.get(f"/subscriptions/{SUB1}?{SUB_READ}", headers=headers).status_code == 200
    forbidden = http.get(f"/subscriptions/{SUB2}?{SUB_READ}", headers=headers)
    assert forbidden.status_code == 403
    assert forbidden.json()["error"]["code"] == "AuthorizationFailed"
    assert f"/subscriptions/{SUB2}" in forbidden.json()["error"]["message"]
    unknown = "5fffffff-0000-4000-8000-000000000009"
    gone = http.get(f"/subscriptions/{unknown}?{SUB_READ}", headers=headers)
    assert gone.status_code == 404
    assert gone.json()["error"]["code"] == "SubscriptionNotFound"


def test_an_unconsented_tenant_refuses_the_app_with_the_code_the_scenario_names(
    make_emulator: MakeEmulator,
) -> None:
    emulator = make_emulator(_world(c2={"consent_refusal": "AADSTS700016"}))
    with client(emulator.base_url, emulator.ca_path) as http:
        answer = _token_answer(http, C2, APP_ID, "emulator-test-secret-0001")
    assert answer.status_code == 400
    body = answer.json()
    assert body["error"] == "unauthorized_client"
    assert body["error_codes"] == [700016]
    assert body["error_description"].startswith("AADSTS700016: Application with identifier")


def test_by_default_an_unconsented_tenant_answers_missing_service_principal(
    http: httpx.Client,
) -> None:
    body = _token_answer(http, C2, APP_ID, "emulator-test-secret-0001").json()
    assert body["error_codes"] == [7000229]


def test_a_deleted_carrier_is_refused_everywhere_and_a_disabled_one_too(
    make_emulator: MakeEmulator,
) -> None:
    for status, code in (("deleted", 700016), ("disabled", 7000112)):
        emulator = make_emulator(_world(carrier={"status": status}))
        with client(emulator.base_url, emulator.ca_path) as http:
            for tenant in (C1, PARTNER):
                answer = _token_answer(http, tenant, CARRIER_ID, CARRIER_SECRET)
                assert answer.status_code == 400, (status, tenant)
                assert answer.json()["error_codes"] == [code], (status, tenant)
