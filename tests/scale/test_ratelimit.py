"""Client-side budgets: one limiter per Microsoft throttling scope (guarantees retry-after, scale)."""

from __future__ import annotations

import asyncio
import math
import time
from pathlib import Path

import pytest

from connectors.destinations import DownloadGuard
from connectors.endpoints import CloudEndpoints
from connectors.http.client import make_client
from connectors.http.request import ApiRequest
from connectors.http.requester import Requester
from connectors.ratelimit import (
    ARM_READS,
    GRAPH_IDENTITY_S,
    GRAPH_MULTI_TENANT_APP,
    GRAPH_REPORTS_APP,
    PC_TENANT,
    RATES,
    MicrosoftLimits,
    Window,
    graph_cost,
)
from standin.emulator import Emulator
from standin.emulator.limits import LIMIT_BY_NAME
from standin.scenario.generate import write_scenario
from tests.scale.support import estate


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_client_table_matches_the_emulators_documented_limits() -> None:
    for rate in RATES:
        documented = LIMIT_BY_NAME[rate.name]
        assert (rate.capacity, rate.period) == (documented.capacity, documented.period)
        assert "§" in rate.source


def test_window_refuses_beyond_capacity_until_the_oldest_answer_ages_out() -> None:
    clock = FakeClock()
    window = Window(PC_TENANT, time_scale=60.0, clock=clock)  # 500 per second
    slots = [window.take("partner") for _ in range(500)]
    assert math.isinf(window.wait("partner"))  # all in flight: room only when one completes
    for slot in slots[:10]:
        clock.now += 0.01
        window.release("partner", slot)
    # The first answer came at 100.01 and it is 100.10 now: room again at 101.01.
    assert window.wait("partner") == pytest.approx(0.91)
    assert window.wait("partner/other-customer") == 0.0  # another scope is not touched
    clock.now += 1.0
    assert window.wait("partner") == 0.0
    assert window.wait("partner", cost=11) > 0  # only ten aged out


def test_a_slot_is_stamped_when_its_answer_arrives_not_when_it_left() -> None:
    """The server counts a request on arrival: stamping on completion keeps our count of a
    scope at or above the server's, so the window never lets the 1,001st request in early."""
    clock = FakeClock()
    window = Window(GRAPH_MULTI_TENANT_APP, clock=clock)  # 1,000 per 20 s
    slots = [window.take("app/partner") for _ in range(1000)]
    clock.now += 5.0  # the answers took five seconds
    for slot in slots:
        window.release("app/partner", slot)
    clock.now += 16.0  # 21 s after sending, 16 s after the answers
    assert window.wait("app/partner") == pytest.approx(4.0)


def test_idle_scopes_are_forgotten_so_memory_follows_the_scopes_in_use() -> None:
    clock = FakeClock()
    window = Window(ARM_READS, clock=clock)
    for n in range(1000):
        window.release(f"app/tenant-{n}", window.take(f"app/tenant-{n}"))
    clock.now += 60.0
    window.release("app/fresh", window.take("app/fresh"))
    assert len(window) == 1


def _request(
    url: str,
    scope: str,
    *,
    tenant: str = "p",
    identity: str | None = None,
    method: str = "GET",
    pre_authenticated: bool = False,
) -> ApiRequest:
    return ApiRequest(
        method=method,
        url=url,
        scope=scope,
        what="t",
        tenant_id=tenant,
        resource="r",
        identity=identity,
        pre_authenticated=pre_authenticated,
    )


def test_requests_are_counted_in_the_scopes_microsoft_throttles_them_in() -> None:
    limits = MicrosoftLimits()
    base = "https://x"
    names = lambda r: {(rate.name, key, cost) for rate, key, cost in limits.checks(r)}  # noqa: E731
    assert names(_request(f"{base}/v1/customers", "pc:p")) == {("partner_center", "p", 1)}
    assert names(_request(f"{base}/v1/customers/C1/subscriptions", "pc:p")) == {
        ("partner_center", "p/c1", 1)
    }
    gdap = names(
        _request(f"{base}/v1.0/tenantRelationships/delegatedAdminRelationships", "graph:p")
    )
    assert ("graph.multi_tenant.app", "partner-app/p", 1) in gdap
    assert ("graph.multi_tenant.tenant", "p", 1) in gdap
    report = names(
        _request(
            f"{base}/v1.0/reports/getOffice365ServicesUserCounts(period='D30')",
            "graph:c:reports",
            tenant="c",
        )
    )
    assert ("graph.reports.app", "partner-app/c/getoffice365servicesusercounts", 1) in report
    skus = names(_request(f"{base}/v1.0/subscribedSkus", "graph:c", tenant="c"))
    assert ("graph.identity.S", "partner-app/c", 3) in skus
    pal = names(
        _request(
            f"{base}/providers/Microsoft.ManagementPartner/partners",
            "arm:c/ops",
            tenant="c",
            identity="ops",
        )
    )
    assert pal == {("arm.reads", "ops/c", 1)}
    write = names(
        _request(
            f"{base}/providers/Microsoft.ManagementPartner/partners/1",
            "arm:c/ops",
            tenant="c",
            identity="ops",
            method="PUT",
        )
    )
    assert write == {("arm.writes", "ops/c", 1)}
    assert (
        names(_request(f"{base}/_downloads/x", "graph-download:c", pre_authenticated=True)) == set()
    )


def test_graph_identity_cost_follows_the_documented_table() -> None:
    assert graph_cost("https://g/v1.0/contracts?$top=100") == 3
    assert graph_cost("https://g/v1.0/subscribedSkus") == 3
    assert graph_cost("https://g/v1.0/servicePrincipals?$filter=appId%20eq%20'x'") == 1
    assert graph_cost("https://g/v1.0/contracts?$select=id&$top=5") == 1


@pytest.mark.anyio
async def test_a_full_scope_waits_while_another_scope_goes_ahead() -> None:
    limits = MicrosoftLimits(time_scale=600.0)  # reports: 14 per second
    report = _request(
        "https://x/v1.0/reports/getOffice365ServicesUserCounts(period='D30')",
        "graph:a:reports",
        tenant="a",
    )
    for _ in range(GRAPH_REPORTS_APP.capacity):
        (await limits.acquire(report)).release()
    other = _request(
        "https://x/v1.0/reports/getOffice365ServicesUserCounts(period='D30')",
        "graph:b:reports",
        tenant="b",
    )
    started = time.monotonic()
    (await limits.acquire(other)).release()
    assert time.monotonic() - started < 0.05
    (await limits.acquire(report)).release()
    assert time.monotonic() - started > 0.5


@pytest.mark.anyio
async def test_limited_requester_never_hears_a_429_from_the_scaled_emulator(
    tmp_path: Path,
) -> None:
    """40 report reads of one tenant against "14 per 10 minutes" scaled to 14 per second:
    the limiter spaces them, the emulator throttles none, and they take about two seconds."""
    document, _scenario = estate(3)
    tenant = document["customers"][0]["tenant_id"]
    path = write_scenario(tmp_path / "estate.json", 3, 7, time_scale=600.0)
    from connectors.live import live_connectors
    from connectors.records.scope import Source

    with Emulator(path) as emulator:
        endpoints = CloudEndpoints.single_origin(emulator.base_url)
        tokens = _EmulatorTokens(emulator)
        async with make_client(emulator.ca_path) as client:
            requester = Requester(
                client,
                tokens,
                limits=MicrosoftLimits(time_scale=600.0),
                downloads=DownloadGuard(allow_origins=[emulator.base_url]),
            )
            reports = next(
                c
                for c in live_connectors(
                    endpoints,
                    tokens,
                    client,
                    partner_tenant_id=emulator.partner_tenant_id,
                    identities={"partner-app": emulator.scenario.partner.app.client_id},
                    app_user=False,
                    requester=requester,
                )
                if c.source is Source.GRAPH_USAGE
            )
            started = time.monotonic()
            await asyncio.gather(*([_drain(reports, tenant) for _ in range(40)]))
            elapsed = time.monotonic() - started
        info = emulator.info()
    assert info["throttled"] == {}
    assert info["scopes"]["graph.reports.app"]["throttled"] == 0
    assert elapsed > 1.5  # (40 - 14) / 14 per second


async def _drain(connector: object, tenant: str) -> None:
    async for _record in connector.fetch(tenant):  # type: ignore[attr-defined]
        pass


class _EmulatorTokens:
    """App-only tokens from the emulator's login endpoint (the partner's app)."""

    def __init__(self, emulator: Emulator) -> None:
        import httpx

        from tests.emulator.support import ssl_context

        self.emulator = emulator
        self.http = httpx.Client(verify=ssl_context(emulator.ca_path))
        self.cache: dict[tuple[str, str], str] = {}

    async def token(
        self,
        tenant_id: str,
        resource: str,
        *,
        identity: str | None = None,
        force_refresh: bool = False,
    ) -> str:
        key = (tenant_id, resource)
        if key not in self.cache or force_refresh:
            app = self.emulator.scenario.partner.app
            answer = self.http.post(
                f"{self.emulator.base_url}/{tenant_id}/oauth2/v2.0/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": app.client_id,
                    "client_secret": app.client_secret,
                    "scope": f"{resource}/.default",
                },
            )
            answer.raise_for_status()
            self.cache[key] = answer.json()["access_token"]
        return self.cache[key]


def test_graph_identity_bucket_assumes_the_smallest_tenant() -> None:
    assert GRAPH_IDENTITY_S.capacity == 3500
