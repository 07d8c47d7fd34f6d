"""The requester: tokens, error mapping, retries, Retry-After, throttling scopes (guarantee retry-after-guarantee arm-budget)."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest

from connectors.errors import (
    AuthError,
    MalformedResponse,
    PermanentError,
    ThrottledError,
    TransientError,
)
from connectors.http.client import make_client
from connectors.http.gate import BudgetSpacing, ScopeGate, remaining_budget
from connectors.http.request import ApiRequest
from connectors.http.requester import Requester
from connectors.retry_after import RetryPolicy, parse_retry_after
from tests.connectors.support import CountingTokens, VirtualClock

pytestmark = pytest.mark.anyio

URL = "https://api.partnercenter.microsoft.com/v1/customers"


def get(scope: str = "pc:p", **kw: Any) -> ApiRequest:
    return ApiRequest(
        method=kw.pop("method", "GET"),
        url=kw.pop("url", URL),
        scope=scope,
        what="customers",
        tenant_id="p",
        resource="https://api.partnercenter.microsoft.com",
        **kw,
    )


class Script:
    """Answers requests from a list, one per call, and remembers the requests."""

    def __init__(self, *answers: httpx.Response | Exception) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


# --- Retry-After and backoff ------------------------------------------------------------------


def test_retry_after_reads_seconds_fractions_and_http_dates() -> None:
    now = datetime(2026, 11, 23, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("57") == 57.0
    assert parse_retry_after("2.128") == pytest.approx(2.128)
    assert parse_retry_after(
        format_datetime(now + timedelta(seconds=7), usegmt=True), now=now
    ) == pytest.approx(7.0)
    assert (
        parse_retry_after(format_datetime(now - timedelta(seconds=7), usegmt=True), now=now) == 0.0
    )
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_backoff_is_exponential_jittered_and_capped() -> None:
    policy = RetryPolicy(base_delay=0.5, max_delay=60.0)
    rng = random.Random(7)
    for attempt in range(1, 30):
        delay = policy.backoff(attempt, rng)
        ceiling = min(60.0, 0.5 * 2 ** (attempt - 1))
        assert ceiling / 2 <= delay <= ceiling
    assert policy.backoff(50, rng) <= 60.0


async def test_503_without_retry_after_backs_off_then_gives_up_as_transient(
    requester_for: Callable[..., Requester], vclock: VirtualClock
) -> None:
    script = Script(httpx.Response(503))
    requester = requester_for(script)
    with pytest.raises(TransientError) as caught:
        await requester.send(get())
    assert not isinstance(caught.value, ThrottledError)
    assert len(script.requests) == 3  # RetryPolicy.attempts
    assert len(vclock.sleeps) == 2
    assert 0.25 <= vclock.sleeps[0] <= 0.5
    assert 0.5 <= vclock.sleeps[1] <= 1.0


async def test_503_then_success_returns_the_answer(requester_for: Callable[..., Requester]) -> None:
    script = Script(httpx.Response(503), httpx.Response(200, json={"ok": True}))
    assert await requester_for(script).get_json(get()) == {"ok": True}
    assert len(script.requests) == 2


async def test_throttled_retries_honour_retry_after_and_are_bounded(
    requester_for: Callable[..., Requester], vclock: VirtualClock
) -> None:
    script = Script(
        httpx.Response(
            429, headers={"Retry-After": "7"}, json={"statusCode": 429, "message": "Rate limit"}
        )
    )
    requester = requester_for(script)
    started = vclock.now
    with pytest.raises(ThrottledError) as caught:
        await requester.send(get())
    assert caught.value.retry_after == 7.0
    assert len(script.requests) == 5  # RetryPolicy.throttled_attempts
    assert vclock.now - started >= 4 * 7.0


async def test_retry_after_as_http_date_is_honoured(
    requester_for: Callable[..., Requester], vclock: VirtualClock
) -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    script = Script(
        httpx.Response(429, headers={"Retry-After": when}), httpx.Response(200, json={})
    )
    await requester_for(script).send(get())
    assert sum(vclock.sleeps) >= 28.0


async def test_arm_retryable_conflict_429_is_transient_not_throttling(
    requester_for: Callable[..., Requester], vclock: VirtualClock
) -> None:
    body = {"error": {"code": "RetryableErrorDueToAnotherOperation", "message": "busy"}}
    script = Script(httpx.Response(429, json=body))
    requester = requester_for(script)
    with pytest.raises(TransientError) as caught:
        await requester.send(get(scope="arm:t/partner-app"))
    assert not isinstance(caught.value, ThrottledError)
    assert len(script.requests) == 3
    assert requester.gate.delay("arm:t/partner-app") == 0.0


# --- tokens -----------------------------------------------------------------------------------


async def test_401_refreshes_the_token_once_then_succeeds(
    requester_for: Callable[..., Requester], tokens: CountingTokens
) -> None:
    script = Script(
        httpx.Response(401, json={"error": {"code": "InvalidAuthenticationToken"}}),
        httpx.Response(200, json={"ok": 1}),
    )
    assert await requester_for(script).get_json(get()) == {"ok": 1}
    assert [c["force_refresh"] for c in tokens.calls] == [False, True]
    assert script.requests[0].headers["Authorization"] == "Bearer token-1"
    assert script.requests[1].headers["Authorization"] == "Bearer token-2"


async def test_a_second_401_gives_up_with_auth_error(
    requester_for: Callable[..., Requester], tokens: CountingTokens
) -> None:
    script = Script(httpx.Response(401, json={"error": {"code": "InvalidAuthenticationToken"}}))
    with pytest.raises(AuthError) as caught:
        await requester_for(script).send(get())
    assert caught.value.status == 401
    assert len(script.requests) == 2
    assert len(tokens.calls) == 2


async def test_403_is_auth_error_without_retry(requester_for: Callable[..., Requester]) -> None:
    script = Script(httpx.Response(403, json={"code": 20002, "description": "No relationship"}))
    with pytest.raises(AuthError):
        await requester_for(script).send(get())
    assert len(script.requests) == 1


async def test_a_refused_token_is_auth_error_and_nothing_is_sent(
    requester_for: Callable[..., Requester],
) -> None:
    script = Script(httpx.Response(200, json={}))
    with pytest.raises(AuthError):
        await requester_for(script, tokens=CountingTokens(refuse=True)).send(get())
    assert script.requests == []


async def test_unauthenticated_request_carries_no_authorization(
    requester_for: Callable[..., Requester], tokens: CountingTokens
) -> None:
    script = Script(httpx.Response(200, content=b"x"))
    await requester_for(script).send(
        ApiRequest(
            method="GET",
            url="https://reports.office.com/x?sig=abc",
            scope="dl",
            what="download",
            pre_authenticated=True,
        )
    )
    assert "Authorization" not in script.requests[0].headers
    assert tokens.calls == []


# --- Partner Center headers ---------------------------------------------------------------------


async def test_partner_center_headers_and_same_request_id_on_retry(
    requester_for: Callable[..., Requester],
) -> None:
    script = Script(httpx.Response(503), httpx.Response(200, json={}))
    await requester_for(script).send(get(partner_center=True, correlation_id="corr-1"))
    first, second = script.requests
    assert first.headers["MS-Contract-Version"] == "v1"
    assert first.headers["MS-CorrelationId"] == "corr-1"
    assert first.headers["MS-RequestId"] == second.headers["MS-RequestId"]
    assert first.headers["User-Agent"].startswith("partnerlink/")


async def test_each_call_gets_a_new_request_id(requester_for: Callable[..., Requester]) -> None:
    script = Script(httpx.Response(200, json={}))
    requester = requester_for(script)
    await requester.send(get(partner_center=True))
    await requester.send(get(partner_center=True))
    assert script.requests[0].headers["MS-RequestId"] != script.requests[1].headers["MS-RequestId"]


# --- timeouts and bodies ----------------------------------------------------------------------


async def test_read_timeout_of_a_get_is_retried_then_transient(
    requester_for: Callable[..., Requester],
) -> None:
    script = Script(httpx.ReadTimeout("timed out"))
    with pytest.raises(TransientError):
        await requester_for(script).send(get())
    assert len(script.requests) == 3


async def test_read_timeout_of_a_post_is_not_retried(
    requester_for: Callable[..., Requester],
) -> None:
    script = Script(httpx.ReadTimeout("timed out"))
    with pytest.raises(TransientError):
        await requester_for(script).send(get(method="POST", json={"Name": "q"}))
    assert len(script.requests) == 1


async def test_connect_error_of_a_post_is_retried(requester_for: Callable[..., Requester]) -> None:
    script = Script(httpx.ConnectError("refused"), httpx.Response(200, json={"ok": 1}))
    assert await requester_for(script).get_json(get(method="POST")) == {"ok": 1}


async def test_500_on_a_post_is_not_retried_but_503_is(
    requester_for: Callable[..., Requester],
) -> None:
    script = Script(httpx.Response(500))
    with pytest.raises(TransientError):
        await requester_for(script).send(get(method="POST"))
    assert len(script.requests) == 1
    script = Script(httpx.Response(503), httpx.Response(200, json={}))
    await requester_for(script).send(get(method="POST"))
    assert len(script.requests) == 2


async def test_invalid_json_and_wrong_shape_are_malformed(
    requester_for: Callable[..., Requester],
) -> None:
    with pytest.raises(MalformedResponse):
        await requester_for(Script(httpx.Response(200, content=b"{not json"))).get_json(get())
    with pytest.raises(MalformedResponse):
        await requester_for(Script(httpx.Response(200, json=[1, 2]))).get_json(get())


async def test_404_is_permanent_with_its_code(requester_for: Callable[..., Requester]) -> None:
    body = {"error": {"code": "Request_ResourceNotFound", "message": "gone"}}
    with pytest.raises(PermanentError) as caught:
        await requester_for(Script(httpx.Response(404, json=body))).send(get())
    assert (caught.value.status, caught.value.code) == (404, "Request_ResourceNotFound")


# --- throttling scopes (guarantee retry-after) and ARM budget (guarantee arm-budget) -----------------------------------------------


def test_gate_block_pauses_only_its_scope() -> None:
    vclock = VirtualClock()
    gate = ScopeGate(clock=vclock, sleep=vclock.sleep)
    gate.block("pc:p", 7)
    assert gate.delay("pc:p") == pytest.approx(7.0)
    assert gate.delay("graph:p") == 0.0
    gate.block("pc:p", 2)  # never shortens a pause
    assert gate.delay("pc:p") == pytest.approx(7.0)


async def test_gate_acquire_waits_out_the_pause() -> None:
    vclock = VirtualClock()
    gate = ScopeGate(clock=vclock, sleep=vclock.sleep)
    gate.block("pc:p", 7)
    start = vclock.now
    await gate.acquire("graph:x")
    assert vclock.now == start
    await gate.acquire("pc:p")
    assert vclock.now - start >= 7.0


async def test_429_pauses_every_request_of_its_scope_and_no_other() -> None:
    """guarantee retry-after on real time: a 429 with Retry-After for P stops all P requests, not Graph ones."""
    retry_after = 0.3
    log: list[tuple[str, float]] = []
    throttled = {"done": False}

    def handler(request: httpx.Request) -> httpx.Response:
        log.append((request.url.path, time.monotonic()))
        if request.url.path == "/v1/first" and not throttled["done"]:
            throttled["done"] = True
            return httpx.Response(429, headers={"Retry-After": str(retry_after)})
        return httpx.Response(200, json={})

    async with make_client(transport=httpx.MockTransport(handler)) as client:
        requester = Requester(client, CountingTokens())
        start = time.monotonic()

        async def pc(path: str, delay: float) -> None:
            await asyncio.sleep(delay)
            await requester.send(get(url=f"https://api.partnercenter.microsoft.com{path}"))

        async def graph() -> None:
            await asyncio.sleep(0.05)
            await requester.send(get(scope="graph:c", url="https://graph.microsoft.com/v1.0/x"))

        await asyncio.gather(pc("/v1/first", 0), pc("/v1/second", 0.05), graph())
    times = {path: [t - start for p, t in log if p == path] for path, _ in log}
    assert times["/v1.0/x"][0] < retry_after  # another scope is not held
    assert times["/v1/second"][0] >= retry_after - 0.02  # another P request waited
    assert times["/v1/first"][1] >= retry_after - 0.02  # and so did the retry


def test_remaining_budget_reads_the_relevant_arm_headers() -> None:
    headers = httpx.Headers(
        {
            "x-ms-ratelimit-remaining-subscription-reads": "240",
            "x-ms-ratelimit-remaining-tenant-reads": "12",
            "x-ms-ratelimit-remaining-tenant-writes": "3",
        }
    )
    assert remaining_budget("GET", headers) == 12
    assert remaining_budget("PUT", headers) == 3
    assert remaining_budget("DELETE", headers) is None
    assert remaining_budget("GET", httpx.Headers({})) is None


async def test_low_arm_budget_spaces_requests_before_any_429(
    requester_for: Callable[..., Requester], vclock: VirtualClock
) -> None:
    low = httpx.Response(200, json={}, headers={"x-ms-ratelimit-remaining-tenant-reads": "5"})
    script = Script(low)
    requester = requester_for(script, budget=BudgetSpacing(threshold=50, max_spacing=1.0))
    scope = "arm:t/partner-app"
    await requester.send(get(scope=scope))
    start = vclock.now
    await requester.send(get(scope=scope))
    await requester.send(get(scope=scope))
    assert vclock.now - start >= 2 * 0.9 - 1e-9  # spacing = 1.0 * 45/50 between starts
    assert requester.gate.delay("arm:other/partner-app") == 0.0


async def test_arm_spacing_is_lifted_when_the_budget_recovers(
    requester_for: Callable[..., Requester],
) -> None:
    script = Script(
        httpx.Response(200, json={}, headers={"x-ms-ratelimit-remaining-tenant-reads": "1"}),
        httpx.Response(200, json={}, headers={"x-ms-ratelimit-remaining-tenant-reads": "249"}),
    )
    requester = requester_for(script)
    await requester.send(get(scope="arm:t/x"))
    assert requester.gate.delay("arm:t/x") > 0
    await requester.send(get(scope="arm:t/x"))
    assert requester.gate.delay("arm:t/x") == 0.0


async def test_a_pre_authenticated_url_never_carries_a_token(
    requester_for: Callable[..., Requester], tokens: CountingTokens
) -> None:
    script = Script(httpx.Response(200, content=b"x"))
    await requester_for(script).send(
        ApiRequest(
            method="GET",
            url="https://dl.example/r.csv?sig=abc",
            scope="dl",
            what="download",
            tenant_id="t",
            resource="r",
            pre_authenticated=True,
        )
    )
    assert "Authorization" not in script.requests[0].headers
    assert tokens.calls == []
