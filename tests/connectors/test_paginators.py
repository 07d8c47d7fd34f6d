"""The three paging styles, their loop guard, and listings that cannot finish (guarantee whole-listing)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from connectors.errors import (
    IncompleteListing,
    MalformedResponse,
    PermanentError,
    TransientError,
)
from connectors.http.paging import (
    ArmPaginator,
    GraphPaginator,
    Paginator,
    PartnerCenterPaginator,
    paginate,
)
from connectors.http.request import ApiRequest
from connectors.http.requester import Requester
from tests.connectors.support import ENDPOINTS

pytestmark = pytest.mark.anyio

PC = "https://api.partnercenter.microsoft.com/v1"
GRAPH = "https://graph.microsoft.com/v1.0/tenantRelationships/delegatedAdminRelationships"
ARM = "https://management.azure.com/subscriptions"


def first(url: str, **kw: Any) -> ApiRequest:
    return ApiRequest(
        method="GET", url=url, scope="s", what="listing", tenant_id="t", resource="r", **kw
    )


async def collect(
    requester: Requester, request: ApiRequest, pager: Paginator, **kw: Any
) -> list[dict[str, Any]]:
    return [item async for item in paginate(requester, request, pager, **kw)]


def pc_page(
    ids: list[int], *, total: int, next_uri: str | None = None, token: str = ""
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "totalCount": total,
        "items": [{"id": i} for i in ids],
        "links": {"self": {"uri": "/customers", "headers": []}},
        "attributes": {"objectType": "Collection"},
    }
    if next_uri:
        body["links"]["next"] = {
            "uri": next_uri,
            "method": "GET",
            "headers": [{"key": "MS-ContinuationToken", "value": token}],
        }
    return body


async def test_partner_center_follows_links_next_with_its_continuation_header(
    requester_for: Callable[..., Requester],
) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if "seekOperation" not in str(request.url):
            return httpx.Response(
                200,
                json=pc_page(
                    [1, 2],
                    total=3,
                    next_uri="/customers?size=2&seekOperation=Next",
                    token="AQAAAA==",
                ),
            )
        return httpx.Response(200, json=pc_page([3], total=3))

    items = await collect(
        requester_for(handler),
        first(f"{PC}/customers", params={"size": "2"}),
        PartnerCenterPaginator(ENDPOINTS),
    )
    assert [i["id"] for i in items] == [1, 2, 3]
    assert str(seen[1].url) == f"{PC}/customers?size=2&seekOperation=Next"
    assert seen[1].headers["MS-ContinuationToken"] == "AQAAAA=="
    assert "MS-ContinuationToken" not in seen[0].headers


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("/customers?seekOperation=Next", f"{PC}/customers?seekOperation=Next"),
        ("/v1/customers?size=40", f"{PC}/customers?size=40"),
        ("customers/E4/subscriptions", f"{PC}/customers/E4/subscriptions"),
        (f"{PC}/customers?x=1", f"{PC}/customers?x=1"),
    ],
)
def test_partner_center_links_resolve_against_v1(uri: str, expected: str) -> None:
    assert PartnerCenterPaginator(ENDPOINTS).resolve(uri, "w") == expected


def test_partner_center_link_to_another_host_is_refused() -> None:
    with pytest.raises(MalformedResponse):
        PartnerCenterPaginator(ENDPOINTS).resolve("https://evil.example/v1/customers", "w")


async def test_partner_center_total_count_above_items_received_is_incomplete(
    requester_for: Callable[..., Requester],
) -> None:
    handler = lambda request: httpx.Response(200, json=pc_page([1], total=37))  # noqa: E731
    with pytest.raises(IncompleteListing):
        await collect(
            requester_for(handler), first(f"{PC}/customers"), PartnerCenterPaginator(ENDPOINTS)
        )


async def test_graph_follows_next_link_and_checks_odata_count(
    requester_for: Callable[..., Requester],
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if "skiptoken" in str(request.url):
            return httpx.Response(200, json={"value": [{"id": "b"}]})
        return httpx.Response(
            200,
            json={
                "@odata.count": 2,
                "value": [{"id": "a"}],
                "@odata.nextLink": f"{GRAPH}?$skiptoken=x",
            },
        )

    items = await collect(requester_for(handler), first(GRAPH), GraphPaginator())
    assert [i["id"] for i in items] == ["a", "b"]


async def test_graph_count_larger_than_items_is_incomplete(
    requester_for: Callable[..., Requester],
) -> None:
    handler = lambda request: httpx.Response(  # noqa: E731
        200, json={"@odata.count": 5, "value": [{"id": "a"}]}
    )
    with pytest.raises(IncompleteListing):
        await collect(requester_for(handler), first(GRAPH), GraphPaginator())


async def test_arm_follows_next_link(requester_for: Callable[..., Requester]) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if "skipToken" in str(request.url):
            return httpx.Response(200, json={"value": [{"subscriptionId": "2"}]})
        return httpx.Response(
            200,
            json={
                "value": [{"subscriptionId": "1"}],
                "nextLink": f"{ARM}?api-version=x&skipToken=y",
            },
        )

    items = await collect(
        requester_for(handler), first(ARM, params={"api-version": "x"}), ArmPaginator()
    )
    assert [i["subscriptionId"] for i in items] == ["1", "2"]


@pytest.mark.parametrize("pager", [GraphPaginator(), ArmPaginator()])
async def test_a_next_link_seen_twice_is_a_loop(
    requester_for: Callable[..., Requester], pager: Paginator
) -> None:
    key = "@odata.nextLink" if isinstance(pager, GraphPaginator) else "nextLink"

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"value": [{"id": 1}], key: f"{GRAPH}?page=2"})

    with pytest.raises(IncompleteListing, match="links back"):
        await collect(requester_for(handler), first(GRAPH), pager)


async def test_partner_center_same_token_twice_is_a_loop(
    requester_for: Callable[..., Requester],
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        page = pc_page([1], total=9, next_uri="/customers?seekOperation=Next", token="same")
        return httpx.Response(200, json=page)

    with pytest.raises(IncompleteListing, match="links back"):
        await collect(
            requester_for(handler), first(f"{PC}/customers"), PartnerCenterPaginator(ENDPOINTS)
        )


async def test_more_than_max_pages_is_incomplete(requester_for: Callable[..., Requester]) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        page = int(request.url.params.get("page", "1"))
        return httpx.Response(
            200, json={"value": [{"id": page}], "@odata.nextLink": f"{GRAPH}?page={page + 1}"}
        )

    with pytest.raises(IncompleteListing, match="more than 5 pages"):
        await collect(requester_for(handler), first(GRAPH), GraphPaginator(), max_pages=5)


async def test_page_two_timing_out_fails_the_whole_listing(
    requester_for: Callable[..., Requester],
) -> None:
    """guarantee whole-listing: page 1 arrived, page 2 times out after retries: the listing raises, never short."""

    def handler(request: httpx.Request) -> httpx.Response:
        if "skiptoken" in str(request.url):
            raise httpx.ReadTimeout("timed out", request=request)
        return httpx.Response(
            200, json={"value": [{"id": "a"}], "@odata.nextLink": f"{GRAPH}?$skiptoken=2"}
        )

    received: list[dict[str, Any]] = []

    async def drain() -> None:
        async for item in paginate(requester_for(handler), first(GRAPH), GraphPaginator()):
            received.append(item)

    with pytest.raises(TransientError):
        await drain()
    assert received == [{"id": "a"}]  # streamed, but the caller sees the failure


@pytest.mark.parametrize(
    "body",
    [
        {"items": []},  # Graph/ARM pages carry "value"
        {"value": "nope"},
        {"value": [1, 2]},
        {"value": [], "@odata.nextLink": "..."},
        {"value": [], "@odata.nextLink": "https://evil.example/v1.0/x"},
    ],
)
async def test_malformed_pages_are_malformed(
    requester_for: Callable[..., Requester], body: dict[str, Any]
) -> None:
    requests: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        return httpx.Response(200, json=body)

    with pytest.raises(MalformedResponse):
        await collect(requester_for(handler), first(GRAPH), GraphPaginator())
    assert all(r.url.host == "graph.microsoft.com" for r in requests)


async def test_an_expired_continuation_on_a_later_page_is_an_incomplete_listing(
    requester_for: Callable[..., Requester],
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if "skipToken" in str(request.url):
            return httpx.Response(
                400, json={"error": {"code": "InvalidSkipToken", "message": "expired"}}
            )
        return httpx.Response(
            200, json={"value": [{"id": 1}], "nextLink": f"{ARM}?skipToken=expired"}
        )

    with pytest.raises(IncompleteListing) as caught:
        await collect(requester_for(handler), first(ARM), ArmPaginator())
    assert (caught.value.status, caught.value.code) == (400, "InvalidSkipToken")


async def test_a_refused_first_page_keeps_its_own_error(
    requester_for: Callable[..., Requester],
) -> None:
    handler = lambda request: httpx.Response(  # noqa: E731
        404, json={"error": {"code": "NotFound", "message": "x"}}
    )
    with pytest.raises(PermanentError) as caught:
        await collect(requester_for(handler), first(ARM), ArmPaginator())
    assert type(caught.value) is PermanentError
