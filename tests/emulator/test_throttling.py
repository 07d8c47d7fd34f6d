"""Microsoft's documented limits as the emulator enforces them, scaled by ``time_scale``."""

from __future__ import annotations

import time

import httpx

from standin.emulator.limits import (
    ARM_READS,
    GRAPH_REPORTS_APP,
    LIMITS,
    PC_TENANT,
    Limiter,
    graph_identity_cost,
    graph_identity_limit,
    retry_after_header,
)
from tests.emulator.conftest import MakeEmulator
from tests.emulator.support import (
    ARM,
    C1,
    GRAPH,
    PARTNER,
    PC,
    app_token,
    bearer,
    client,
    keys_of,
    world,
)
from tests.emulator.support import sample as doc


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_every_limit_names_its_source() -> None:
    assert len({limit.name for limit in LIMITS}) == len(LIMITS)
    assert all("§" in limit.source for limit in LIMITS)
    assert PC_TENANT.rate() == 500 / 60
    assert ARM_READS.rate() == 25.0


def test_sliding_window_refuses_the_501st_request_until_the_oldest_ages_out() -> None:
    clock = FakeClock()
    limiter = Limiter(PC_TENANT, clock=clock)
    for _ in range(500):
        assert limiter.admit("partner").allowed
        clock.now += 0.01
    refused = limiter.admit("partner")
    assert not refused.allowed
    assert 54 < refused.retry_after <= 55.01  # the first request leaves the window at t0 + 60
    assert limiter.admit("partner/other-customer").allowed  # another scope
    clock.now += refused.retry_after
    assert limiter.admit("partner").allowed
    stats = limiter.stats()
    assert stats["requests"] == 503
    assert stats["throttled"] == 1


def test_token_bucket_refills_at_the_documented_rate_scaled() -> None:
    clock = FakeClock()
    limiter = Limiter(ARM_READS, time_scale=10, clock=clock)
    for _ in range(250):
        assert limiter.admit("sp/tenant").allowed
    refused = limiter.admit("sp/tenant")
    assert not refused.allowed
    assert abs(refused.retry_after - 1 / 250) < 1e-9  # 25/s x 10
    clock.now += 0.1
    assert [limiter.admit("sp/tenant").allowed for _ in range(26)].count(True) == 25


def test_graph_costs_and_tenant_sizes() -> None:
    assert graph_identity_cost("contracts", select=False, top=None) == 3
    assert graph_identity_cost("contracts", select=True, top=10) == 1
    assert graph_identity_cost("servicePrincipals", select=True, top=None) == 1
    assert graph_identity_limit(10).capacity == 3500
    assert graph_identity_limit(200).capacity == 5000
    assert graph_identity_limit(501).capacity == 8000


def test_retry_after_values() -> None:
    assert retry_after_header(56.2, fractional=False) == "57"
    assert retry_after_header(2.128, fractional=True) == "2.128"
    assert retry_after_header(0.25, fractional=False) == "0.250"


def test_graph_reports_allow_14_per_window_then_429_with_fractional_retry_after(
    make_emulator: MakeEmulator,
) -> None:
    emulator = make_emulator(world(emulator={"time_scale": 1200}))  # 10 min -> 0.5 s
    report = "/v1.0/reports/getOffice365ServicesUserCounts(period='D30')"
    with client(emulator.base_url, emulator.ca_path) as http:
        headers = bearer(app_token(http, C1, GRAPH))
        statuses = [http.get(report, headers=headers).status_code for _ in range(14)]
        assert statuses == [302] * 14
        throttled = http.get(report, headers=headers)
        assert throttled.status_code == 429
        assert keys_of(throttled.json()["error"]) == keys_of(
            doc("graph_error_throttled_429.json")["error"]
        )
        wait = float(throttled.headers["Retry-After"])
        assert 0 < wait <= 0.5
        assert throttled.headers["x-ms-throttle-scope"].startswith(GRAPH_REPORTS_APP.name)
        time.sleep(wait + 0.02)
        assert http.get(report, headers=headers).status_code == 302
    stats = emulator.info()["scopes"][GRAPH_REPORTS_APP.name]
    assert stats["throttled"] == 1
    assert stats["requests"] == 16


def test_arm_answers_with_remaining_reads_and_429_when_the_bucket_is_empty(
    make_emulator: MakeEmulator,
) -> None:
    emulator = make_emulator()
    with client(emulator.base_url, emulator.ca_path) as http:
        headers = bearer(app_token(http, C1, ARM))
        url = "/subscriptions?api-version=2022-12-01"
        first = http.get(url, headers=headers)
        assert first.headers["x-ms-ratelimit-remaining-tenant-reads"] == "249"
        for _ in range(400):
            answer = http.get(url, headers=headers)
            if answer.status_code == 429:
                break
        assert answer.status_code == 429
        assert answer.json()["error"]["code"] == "TooManyRequests"
        assert answer.headers["x-ms-ratelimit-remaining-tenant-reads"] == "0"
        assert 0 < float(answer.headers["Retry-After"]) < 1


def test_partner_center_throttles_at_500_per_minute_per_tenant(
    make_emulator: MakeEmulator,
) -> None:
    emulator = make_emulator()
    with client(emulator.base_url, emulator.ca_path) as http:
        headers = bearer(app_token(http, PARTNER, PC))
        for count in range(1, 520):  # noqa: B007 - the count is the assertion
            answer = http.get("/v1/customers", headers=headers)
            if answer.status_code == 429:
                break
        assert count == 501
        assert answer.json().keys() == doc("partnercenter_throttle_429.json").keys()
        assert int(answer.headers["Retry-After"]) >= 55
        assert answer.headers["Retry-After"] in answer.json()["message"]
        # Another customer's pair scope is not throttled by the partner-level listing.
        other = http.get(f"/v1/customers/{C1}/subscriptions", headers=headers)
        assert other.status_code == 200
    info = emulator.info()
    assert info["throttled"]["pc"] == 1


def test_limits_can_be_switched_off(make_emulator: MakeEmulator) -> None:
    emulator = make_emulator(world(emulator={"enforce_limits": False}))
    report = "/v1.0/reports/getOffice365ServicesUserCounts(period='D30')"
    with client(emulator.base_url, emulator.ca_path) as http:
        headers = bearer(app_token(http, C1, GRAPH))
        assert {http.get(report, headers=headers).status_code for _ in range(20)} == {302}
    assert emulator.info()["scopes"][GRAPH_REPORTS_APP.name]["requests"] == 20


def test_concurrent_clients_are_served(make_emulator: MakeEmulator) -> None:
    import concurrent.futures

    emulator = make_emulator(world(emulator={"enforce_limits": False}))
    with client(emulator.base_url, emulator.ca_path) as http:
        headers = bearer(app_token(http, C1, GRAPH))

    def worker(_: int) -> list[int]:
        with client(emulator.base_url, emulator.ca_path) as own:
            return [own.get("/v1.0/subscribedSkus", headers=headers).status_code for _ in range(25)]

    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = [s for batch in pool.map(worker, range(8)) for s in batch]
    assert results == [200] * 200
    assert time.monotonic() - started < 5
    assert isinstance(http, httpx.Client)
