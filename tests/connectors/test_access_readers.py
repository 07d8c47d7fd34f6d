"""The readers behind `partnerlink readiness`: the Graph roles an app holds in a tenant, read
from the directory, and whether an identity may read one Azure subscription."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from connectors.azure_access import SubscriptionAccess, subscription_access
from connectors.errors import AuthError, MalformedResponse, TransientError
from connectors.graph.assignments import GRAPH_APP_ID, granted_graph_roles
from connectors.http.requester import Requester
from tests.connectors.support import CUSTOMER, ENDPOINTS

pytestmark = pytest.mark.anyio

APP = "a9900000-0000-4000-8000-0000000000a1"
GRAPH_SP = "6e000000-0000-4000-8000-000000000001"
OTHER_API = "6e000000-0000-4000-8000-000000000002"
SUB = "50000001-0000-4000-8000-000000000001"
ROLES = [
    {"id": "7AB1D382-F21E-4ACD-A863-BA3E13F7DA61", "value": "Directory.Read.All"},
    {"id": "230c1aed-a721-4c5d-9cb4-a90514e508ef", "value": "Reports.Read.All"},
]


def _assignment(role_id: str, resource: str = GRAPH_SP) -> dict[str, Any]:
    return {"id": role_id[:8], "appRoleId": role_id, "resourceId": resource}


def directory(
    assignments: list[dict[str, Any]], graph: dict[str, Any] | None = None
) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == f"/v1.0/servicePrincipals(appId='{GRAPH_APP_ID}')":
            assert request.url.params["$select"] == "id,appRoles"
            return httpx.Response(200, json=graph or {"id": GRAPH_SP, "appRoles": ROLES})
        assert path == f"/v1.0/servicePrincipals(appId='{APP}')/appRoleAssignments", path
        return httpx.Response(200, json={"value": assignments})

    return handler


async def test_roles_are_named_by_graphs_own_app_roles_and_others_apis_ignored(
    requester_for: Callable[..., Requester],
) -> None:
    requester = requester_for(
        directory(
            [
                _assignment("7ab1d382-f21e-4acd-a863-ba3e13f7da61"),
                _assignment("230C1AED-A721-4C5D-9CB4-A90514E508EF"),
                _assignment("11111111-0000-4000-8000-000000000000", resource=OTHER_API),
            ]
        )
    )
    roles = await granted_graph_roles(requester, ENDPOINTS, CUSTOMER.upper(), APP)
    assert roles == {"Directory.Read.All", "Reports.Read.All"}


async def test_a_role_graph_does_not_define_is_kept_by_its_id(
    requester_for: Callable[..., Requester],
) -> None:
    unknown = "22222222-0000-4000-8000-000000000000"
    requester = requester_for(directory([_assignment(unknown)]))
    assert await granted_graph_roles(requester, ENDPOINTS, CUSTOMER, APP) == {unknown}


async def test_a_graph_service_principal_without_app_roles_is_malformed(
    requester_for: Callable[..., Requester],
) -> None:
    requester = requester_for(directory([], graph={"id": GRAPH_SP}))
    with pytest.raises(MalformedResponse):
        await granted_graph_roles(requester, ENDPOINTS, CUSTOMER, APP)


async def test_no_permission_to_read_the_directory_raises(
    requester_for: Callable[..., Requester],
) -> None:
    def refused(request: httpx.Request) -> httpx.Response:
        body = {"error": {"code": "Authorization_RequestDenied", "message": "Insufficient"}}
        return httpx.Response(403, json=body)

    with pytest.raises(AuthError) as raised:
        await granted_graph_roles(requester_for(refused), ENDPOINTS, CUSTOMER, APP)
    assert raised.value.code == "Authorization_RequestDenied"


def arm_answer(status: int, code: str | None = None) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.path == f"/subscriptions/{SUB}"
        assert request.url.params["api-version"] == "2022-12-01"
        if status == 200:
            return httpx.Response(200, json={"subscriptionId": SUB})
        return httpx.Response(status, json={"error": {"code": code, "message": "m"}})

    return handler


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (200, None, SubscriptionAccess.READABLE),
        (403, "AuthorizationFailed", SubscriptionAccess.NO_ROLE),
        (404, "SubscriptionNotFound", SubscriptionAccess.NOT_FOUND),
    ],
)
async def test_a_subscription_is_readable_without_a_role_or_not_there(
    requester_for: Callable[..., Requester], status: int, code: str | None, expected: str
) -> None:
    requester = requester_for(arm_answer(status, code))
    got = await subscription_access(requester, ENDPOINTS, CUSTOMER, SUB.upper(), "partner-app")
    assert got is expected


async def test_any_other_answer_about_a_subscription_raises(
    requester_for: Callable[..., Requester],
) -> None:
    with pytest.raises(AuthError):
        await subscription_access(
            requester_for(arm_answer(403, "InvalidAuthenticationTokenTenant")),
            ENDPOINTS,
            CUSTOMER,
            SUB,
            "partner-app",
        )
    with pytest.raises(TransientError):
        await subscription_access(
            requester_for(arm_answer(503, "ServiceUnavailable")),
            ENDPOINTS,
            CUSTOMER,
            SUB,
            "partner-app",
        )
