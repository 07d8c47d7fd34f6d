"""Download hops (a Graph report's redirect, an insights secure link) go only to public https
hosts, never with a token; the local emulator's own origin is the one explicit exception."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from connectors.destinations import DownloadGuard
from connectors.errors import MalformedResponse, TransientError
from connectors.graph.reports import GraphUsageReports
from connectors.http.requester import Requester
from connectors.insights.api import InsightsApi
from connectors.insights.queries import InsightsQuery
from tests.connectors.support import CUSTOMER, ENDPOINTS, PARTNER, CountingTokens, FakeDns

pytestmark = pytest.mark.anyio

TOKEN = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.c2ln"
REPORT = (
    "\ufeffReport Refresh Date,Exchange Active,OneDrive Active,SharePoint Active,"
    "Skype For Business Active,Yammer Active,Teams Active,Office 365 Active,Report Period\n"
    "2026-11-20,10,9,8,0,0,7,12,30\n"
).encode()
DNS = FakeDns(
    {
        "intranet.contoso.example": ["10.0.0.5"],
        "split.contoso.example": ["52.1.2.3", "192.168.1.10"],
        "metadata.contoso.example": ["169.254.169.254"],
        "gone.contoso.example": [],
    }
)


class Graph:
    """Graph answering the usage report with a redirect to ``location``; the download host
    serves the CSV. Every request is remembered."""

    def __init__(self, location: str) -> None:
        self.location = location
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.url.host == "graph.microsoft.com":
            return httpx.Response(302, headers={"Location": self.location})
        return httpx.Response(200, content=REPORT)

    def hops(self) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.host != "graph.microsoft.com"]


async def usage(requester: Requester) -> list[Any]:
    connector = GraphUsageReports(requester, ENDPOINTS, partner_tenant_id=PARTNER)
    return [r async for r in connector.fetch(CUSTOMER)]


@pytest.mark.parametrize(
    ("location", "why"),
    [
        ("http://reports.office.com/r.csv?sig=s", "not https"),
        ("https://127.0.0.1/r.csv?sig=s", "IP address"),
        ("https://10.1.2.3/r.csv?sig=s", "IP address"),
        ("https://169.254.169.254/latest/meta-data/", "IP address"),
        ("https://[::1]:8443/r.csv", "IP address"),
        ("https://localhost/r.csv", "local name"),
        ("https://intranet.contoso.example/r.csv?sig=s", "a private address"),
        ("https://split.contoso.example/r.csv?sig=s", "a private address"),
        ("https://metadata.contoso.example/r.csv", "cloud metadata address"),
        ("https://user:pw@reports.office.com/r.csv", "credentials"),
    ],
)
async def test_a_report_redirect_to_a_place_that_is_not_public_https_fails_the_source(
    requester_for: Callable[..., Requester], location: str, why: str
) -> None:
    graph = Graph(location)
    requester = requester_for(graph, downloads=DownloadGuard(resolve=DNS))
    with pytest.raises(MalformedResponse, match=why) as refused:
        await usage(requester)
    assert graph.hops() == [], "no request was made to the refused host"
    assert "sig=" not in str(refused.value), "the link's query (its credential) is not told"


async def test_a_download_host_that_does_not_resolve_is_a_transient_failure(
    requester_for: Callable[..., Requester],
) -> None:
    graph = Graph("https://gone.contoso.example/r.csv")
    with pytest.raises(TransientError, match="does not resolve"):
        await usage(requester_for(graph, downloads=DownloadGuard(resolve=DNS)))
    assert graph.hops() == []


async def test_the_hop_to_a_public_host_carries_no_token_and_only_plain_headers(
    requester_for: Callable[..., Requester],
) -> None:
    graph = Graph("https://reports.office.com/data/r.csv?sv=1&sig=SECRET")
    requester = requester_for(
        graph, tokens=CountingTokens(TOKEN), downloads=DownloadGuard(resolve=DNS)
    )
    assert len(await usage(requester)) == 7
    [hop] = graph.hops()
    assert hop.url.host == "reports.office.com"
    assert set(hop.headers) == {"host", "accept", "accept-encoding", "user-agent", "connection"}
    assert TOKEN not in str(hop.headers.raw)
    assert "reports.office.com" in DNS.asked


async def test_an_insights_secure_link_to_a_private_host_fails_the_source(
    requester_for: Callable[..., Requester],
) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        path = request.url.path
        if path.endswith("/ScheduledQueries"):
            return httpx.Response(200, json={"value": [{"queryId": "q1"}]})
        if path.endswith("/ScheduledReport"):
            return httpx.Response(200, json={"value": [{"reportId": "r1"}]})
        link = "https://intranet.contoso.example/report.csv?sig=s"
        execution = {"executionStatus": "Completed", "reportAccessSecureLink": link}
        return httpx.Response(200, json={"value": [execution]})

    connector = InsightsApi(
        requester_for(handler, downloads=DownloadGuard(resolve=DNS)),
        ENDPOINTS,
        partner_tenant_id=PARTNER,
        queries=(InsightsQuery("q", "SELECT CustomerTenantId FROM OfficeUsage", "m365"),),
    )
    with pytest.raises(MalformedResponse, match="private address"):
        [r async for r in connector.fetch(None)]
    assert all(r.url.host != "intranet.contoso.example" for r in seen)


async def test_only_the_allowed_emulator_origin_passes_without_the_public_host_check() -> None:
    dns = FakeDns()
    guard = DownloadGuard(allow_origins=["https://127.0.0.1:8443"], resolve=dns)
    await guard.check("https://127.0.0.1:8443/_downloads/abc?sig=s", "usage")
    for elsewhere in (
        "https://127.0.0.1:9999/_downloads/abc",  # another port of the same host
        "http://127.0.0.1:8443/_downloads/abc",  # the same port without TLS
        "https://10.0.0.1:8443/_downloads/abc",
    ):
        with pytest.raises(MalformedResponse):
            await guard.check(elsewhere, "usage")
    assert dns.asked == []


async def test_without_an_allowance_the_emulator_origin_is_refused() -> None:
    with pytest.raises(MalformedResponse, match="IP address"):
        await DownloadGuard(resolve=FakeDns()).check("https://127.0.0.1:8443/x", "usage")
