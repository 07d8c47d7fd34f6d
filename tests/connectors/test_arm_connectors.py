"""ARM: subscriptions, and PAL read as each identity with guarantee proven-absence's three outcomes kept apart."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from connectors.arm import ArmPal, ArmSubscriptions, PalWriter, token_object_id
from connectors.errors import AuthError, PermanentError, TransientError
from connectors.http.request import SOURCE_EXTENSION
from connectors.http.requester import Requester
from connectors.records.azure import AzureSubscription
from connectors.records.pal import PalLink
from tests.connectors.support import CUSTOMER, ENDPOINTS, CountingTokens, jwt_with

pytestmark = pytest.mark.anyio

OID = "0b000001-0000-4000-8000-000000000001"
NOT_FOUND = {
    "error": {
        "code": "ManagementPartnerNotFound",
        "message": "This user or service principal is not linked with a Partner ID",
    },
    "code": "ManagementPartnerNotFound",
    "message": "This user or service principal is not linked with a Partner ID",
}


def partner(partner_id: str = "4100002") -> dict[str, Any]:
    return {
        "id": f"/providers/microsoft.managementpartner/partners/{partner_id}",
        "type": "Microsoft.ManagementPartner/partners",
        "name": partner_id,
        "etag": 3,
        "properties": {
            "partnerId": partner_id,
            "tenantId": CUSTOMER,
            "objectId": OID.upper(),
            "version": 3,
            "updatedTime": "2026-01-01T00:00:00Z",
            "createdTime": "2026-01-01T00:00:00Z",
            "state": "Active",
        },
    }


SUBS = {
    "value": [
        {"subscriptionId": "B0000000-0000-4000-8000-000000000002"},
        {"subscriptionId": "a0000000-0000-4000-8000-000000000001"},
    ]
}


def arm(
    pal: httpx.Response, subs: httpx.Response | None = None, seen: list[httpx.Request] | None = None
) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        if request.url.path == "/subscriptions":
            return subs or httpx.Response(200, json=SUBS)
        return pal

    return handler


async def read(requester: Requester, identity: str = "partner-app") -> list[Any]:
    connector = ArmPal(requester, ENDPOINTS, identity=identity)
    return [r async for r in connector.fetch(CUSTOMER.upper())]


async def test_linked_identity_yields_its_partner_id_and_sorted_subscriptions(
    requester_for: Callable[..., Requester], tokens: CountingTokens
) -> None:
    seen: list[httpx.Request] = []
    [link] = await read(requester_for(arm(httpx.Response(200, json=partner()), seen=seen)))
    assert link == PalLink(
        customer_tenant_id=CUSTOMER,
        identity="partner-app",
        object_id=OID,
        partner_id="4100002",
        state="Active",
        subscriptions=(
            "a0000000-0000-4000-8000-000000000001",
            "b0000000-0000-4000-8000-000000000002",
        ),
    )
    assert seen[0].url.params["api-version"] == "2018-02-01"
    assert seen[1].url.params["api-version"] == "2022-12-01"
    # Both calls are made for arm.pal, the /subscriptions listing included (emulator faults),
    # said in the request's extensions: no header of ours goes to Microsoft.
    assert {r.extensions[SOURCE_EXTENSION] for r in seen} == {"arm.pal"}
    assert not [h for r in seen for h in r.headers if h.lower().startswith("x-partnerlink")]
    assert {c["tenant"] for c in tokens.calls} == {CUSTOMER}
    assert {c["identity"] for c in tokens.calls} == {None}  # the partner's own app


async def test_not_found_is_an_authenticated_negative(
    requester_for: Callable[..., Requester],
) -> None:
    """guarantee proven-absence: 404 ManagementPartnerNotFound after a good token is "no PAL", not an error."""
    tokens = CountingTokens(jwt_with({"oid": OID.upper(), "tid": CUSTOMER}))
    [link] = await read(
        requester_for(arm(httpx.Response(404, json=NOT_FOUND)), tokens=tokens),
        identity="pal-carrier-ops",
    )
    assert link.partner_id is None
    assert link.object_id == OID
    assert link.identity == "pal-carrier-ops"
    assert len(link.subscriptions) == 2
    assert {c["identity"] for c in tokens.calls} == {"pal-carrier-ops"}


async def test_not_found_with_an_opaque_token_has_no_object_id(
    requester_for: Callable[..., Requester],
) -> None:
    [link] = await read(requester_for(arm(httpx.Response(404, json=NOT_FOUND))))
    assert (link.partner_id, link.object_id) == (None, None)


@pytest.mark.parametrize("status", [401, 403])
async def test_refused_pal_read_is_cannot_verify(
    requester_for: Callable[..., Requester], status: int
) -> None:
    body = {"error": {"code": "AuthorizationFailed", "message": "no"}}
    with pytest.raises(AuthError):
        await read(requester_for(arm(httpx.Response(status, json=body))))


async def test_refused_token_is_cannot_verify(requester_for: Callable[..., Requester]) -> None:
    with pytest.raises(AuthError):
        await read(
            requester_for(
                arm(httpx.Response(200, json=partner())), tokens=CountingTokens(refuse=True)
            )
        )


async def test_a_404_of_another_kind_is_not_a_negative(
    requester_for: Callable[..., Requester],
) -> None:
    body = {"error": {"code": "NotFound", "message": "no such route"}}
    with pytest.raises(PermanentError):
        await read(requester_for(arm(httpx.Response(404, json=body))))


async def test_pal_subscription_listing_failure_fails_the_read(
    requester_for: Callable[..., Requester],
) -> None:
    with pytest.raises(TransientError):
        await read(
            requester_for(arm(httpx.Response(200, json=partner()), subs=httpx.Response(503)))
        )


async def test_spec_example_with_string_version_and_no_object_id(
    requester_for: Callable[..., Requester],
) -> None:
    body = partner("123456")
    body["properties"]["version"] = "3"
    del body["properties"]["objectId"]
    tokens = CountingTokens(jwt_with({"oid": OID}))
    [link] = await read(requester_for(arm(httpx.Response(200, json=body)), tokens=tokens))
    assert (link.partner_id, link.object_id) == ("123456", OID)


def test_token_object_id_reads_oid_of_a_jwt_only() -> None:
    assert token_object_id(jwt_with({"oid": "ABC"})) == "abc"
    assert token_object_id("opaque") is None
    assert token_object_id("a.!!!.c") is None


async def test_arm_subscriptions_with_managing_tenants(
    requester_for: Callable[..., Requester],
) -> None:
    body = {
        "value": [
            {
                "id": "/subscriptions/X",
                "subscriptionId": "50000001-AAAA-4000-8000-000000000001",
                "displayName": "prod",
                "state": "Enabled",
                "managedByTenants": [{"tenantId": "7A11CE00-0000-4000-8000-000000000001"}],
            }
        ]
    }
    connector = ArmSubscriptions(requester_for(lambda r: httpx.Response(200, json=body)), ENDPOINTS)
    records = [r async for r in connector.fetch(CUSTOMER)]
    assert records == [
        AzureSubscription(
            customer_tenant_id=CUSTOMER,
            subscription_id="50000001-aaaa-4000-8000-000000000001",
            display_name="prod",
            state="Enabled",
            managed_by_tenants=("7a11ce00-0000-4000-8000-000000000001",),
        )
    ]


async def test_arm_subscriptions_fail_on_503(requester_for: Callable[..., Requester]) -> None:
    connector = ArmSubscriptions(requester_for(lambda r: httpx.Response(503)), ENDPOINTS)
    with pytest.raises(TransientError):
        [r async for r in connector.fetch(CUSTOMER)]


# --- the write helper ---------------------------------------------------------------------------


class PalServer:
    """A PAL endpoint with state: GET/PUT/PATCH as ARM answers them."""

    def __init__(self, linked: str | None) -> None:
        self.linked = linked
        self.methods: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/subscriptions":
            return httpx.Response(200, json={"value": []})
        self.methods.append(request.method)
        if request.method == "GET":
            if self.linked is None:
                return httpx.Response(404, json=NOT_FOUND)
            return httpx.Response(200, json=partner(self.linked))
        wanted = request.url.path.rsplit("/", 1)[1]
        if request.method == "PATCH" and self.linked is None:
            return httpx.Response(404, json=NOT_FOUND)
        self.linked = wanted
        return httpx.Response(200, json=partner(wanted))


@pytest.mark.parametrize(
    ("linked", "methods"),
    [(None, ["GET", "PUT"]), ("4100009", ["GET", "PATCH"]), ("4100002", ["GET"])],
)
async def test_pal_link_writes_only_what_is_needed(
    requester_for: Callable[..., Requester], linked: str | None, methods: list[str]
) -> None:
    server = PalServer(linked)
    writer = PalWriter(requester_for(server), ENDPOINTS)
    link = await writer.pal_link("partner-app", CUSTOMER, "4100002")
    assert link.partner_id == "4100002"
    assert server.methods == methods
    assert server.linked == "4100002"
