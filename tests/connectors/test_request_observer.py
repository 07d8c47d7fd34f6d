"""The requester's observer seam: every try and every throttling wait is told, labelled by API."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from connectors.errors import TransientError
from connectors.http.client import make_client
from connectors.http.gate import ScopeGate
from connectors.http.observer import api_of
from connectors.http.request import ApiRequest
from connectors.http.requester import Requester
from connectors.ratelimit import MicrosoftLimits, Rate
from connectors.retry_after import RetryPolicy
from tests.connectors.support import CountingTokens, VirtualClock

pytestmark = pytest.mark.anyio

URL = "https://api.partnercenter.microsoft.com/v1/customers"


class Recorder:
    """An observer that remembers what it heard."""

    def __init__(self) -> None:
        self.done: list[tuple[str, int | str]] = []
        self.waits: list[tuple[str, float, str]] = []

    def request_done(self, api: str, status: int | str) -> None:
        self.done.append((api, status))

    def waited(self, api: str, seconds: float, why: str) -> None:
        self.waits.append((api, seconds, why))


def get(scope: str = "pc:7a11ce00", url: str = URL) -> ApiRequest:
    return ApiRequest(
        method="GET",
        url=url,
        scope=scope,
        what="customers",
        tenant_id="p",
        resource="https://api.partnercenter.microsoft.com",
    )


def answers(*responses: httpx.Response | Exception) -> Callable[[httpx.Request], httpx.Response]:
    """A handler answering from ``responses`` in turn (the last one repeats)."""
    queue = list(responses)

    def handle(_request: httpx.Request) -> httpx.Response:
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(answer, Exception):
            raise answer
        return answer

    return handle


@asynccontextmanager
async def requester(
    handler: Callable[[httpx.Request], httpx.Response],
    vclock: VirtualClock,
    recorder: Recorder,
    **kw: Any,
) -> AsyncIterator[Requester]:
    """A requester on virtual time telling ``recorder``; its client is closed afterwards."""
    async with make_client(transport=httpx.MockTransport(handler)) as client:
        yield Requester(
            client,
            CountingTokens(),
            gate=ScopeGate(clock=vclock, sleep=vclock.sleep),
            sleep=vclock.sleep,
            clock=vclock,
            observer=recorder,
            **kw,
        )


def test_the_api_label_is_the_scope_family_and_never_a_tenant() -> None:
    assert api_of("pc:7a11ce00-0000-4000-8000-000000000001") == "partner_center"
    assert api_of("graph:c0000000-0000-4000-8000-000000000001") == "graph"
    assert api_of("graph:c0000000-0000-4000-8000-000000000001:reports") == "graph"
    assert api_of("arm:c0000000-0000-4000-8000-000000000001/partner-app") == "arm"
    assert api_of("insights:7a11ce00-0000-4000-8000-000000000001") == "insights"
    assert api_of("graph-download:c0000000-0000-4000-8000-000000000001") == "download"
    assert api_of("something-new:tenant") == "other"


async def test_a_429_with_retry_after_then_200_is_two_tries_and_one_wait() -> None:
    vclock, recorder = VirtualClock(), Recorder()
    handler = answers(
        httpx.Response(429, headers={"Retry-After": "7"}), httpx.Response(200, json={"ok": True})
    )
    async with requester(handler, vclock, recorder) as sender:
        assert await sender.get_json(get()) == {"ok": True}
    assert recorder.done == [("partner_center", 429), ("partner_center", 200)]
    assert recorder.waits == [("partner_center", 7.0, "retry_after")]


async def test_a_503_with_retry_after_is_a_wait_but_plain_backoff_is_not() -> None:
    vclock, recorder = VirtualClock(), Recorder()
    handler = answers(
        httpx.Response(503, headers={"Retry-After": "3"}),
        httpx.Response(503),
        httpx.Response(200, json={}),
    )
    async with requester(handler, vclock, recorder) as sender:
        await sender.get_json(get(scope="graph:c1", url="https://graph.microsoft.com/v1.0/x"))
    assert recorder.done == [("graph", 503), ("graph", 503), ("graph", 200)]
    assert recorder.waits == [("graph", 3.0, "retry_after")]


async def test_transport_failures_are_told_as_timeout_or_error() -> None:
    vclock, recorder = VirtualClock(), Recorder()
    handler = answers(httpx.ReadTimeout("slow"), httpx.ConnectError("refused"))
    async with requester(handler, vclock, recorder, retry=RetryPolicy(attempts=2)) as sender:
        with pytest.raises(TransientError):
            await sender.send(
                get(scope="arm:c1/partner-app", url="https://management.azure.com/subscriptions")
            )
    assert recorder.done == [("arm", "timeout"), ("arm", "error")]


async def test_arm_spacing_is_a_wait_of_its_own_kind() -> None:
    vclock, recorder = VirtualClock(), Recorder()
    low = httpx.Response(200, json={}, headers={"x-ms-ratelimit-remaining-tenant-reads": "5"})
    async with requester(answers(low), vclock, recorder) as sender:
        request = get(scope="arm:c1/partner-app", url="https://management.azure.com/x")
        await sender.send(request)
        await sender.send(request)
    assert recorder.done == [("arm", 200), ("arm", 200)]
    [(api, seconds, why)] = recorder.waits
    assert (api, why) == ("arm", "spacing")
    assert seconds == pytest.approx(0.9)  # 1.0 x 45/50 remaining: BudgetSpacing's default


async def test_a_client_side_budget_wait_is_told_once_per_request_that_waited() -> None:
    vclock, recorder = VirtualClock(), Recorder()
    two_a_minute = Rate("partner_center", 2, 60.0, "test")
    limits = MicrosoftLimits(clock=vclock, sleep=vclock.sleep, rates=(two_a_minute,))
    async with requester(
        answers(httpx.Response(200, json={})), vclock, recorder, limits=limits
    ) as sender:
        for _ in range(3):
            await sender.send(get())
    assert [api for api, _ in recorder.done] == ["partner_center"] * 3
    [(api, seconds, why)] = recorder.waits
    assert (api, why) == ("partner_center", "budget")
    assert seconds == pytest.approx(60.0)  # until the first of the two in the minute ages out


async def test_without_an_observer_nothing_changes() -> None:
    vclock = VirtualClock()
    handler = answers(
        httpx.Response(429, headers={"Retry-After": "2"}), httpx.Response(200, json={"ok": True})
    )
    async with make_client(transport=httpx.MockTransport(handler)) as client:
        plain = Requester(
            client,
            CountingTokens(),
            gate=ScopeGate(clock=vclock, sleep=vclock.sleep),
            sleep=vclock.sleep,
        )
        assert await plain.get_json(get()) == {"ok": True}
    assert vclock.sleeps == [2.0]
