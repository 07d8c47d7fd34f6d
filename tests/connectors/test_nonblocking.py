"""guarantee bounded-waits: waiting out a Retry-After never blocks the event loop, and a write is not retried after
a read timeout (it may have been applied)."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from connectors.errors import TransientError
from connectors.http.client import make_client
from connectors.http.requester import Requester
from tests.connectors.support import CountingTokens
from tests.connectors.test_requester import get

pytestmark = pytest.mark.anyio


async def test_a_retry_after_wait_keeps_a_heartbeat_coroutine_on_time() -> None:
    """A 1.5 s Retry-After (a scaled-down 30 s) while a 20 ms heartbeat keeps ticking."""
    answers = [httpx.Response(429, headers={"Retry-After": "1.5"}), httpx.Response(200, json={})]

    def handler(_request: httpx.Request) -> httpx.Response:
        return answers.pop(0)

    lags: list[float] = []
    done = asyncio.Event()

    async def heartbeat() -> None:
        while not done.is_set():
            before = time.monotonic()
            await asyncio.sleep(0.02)
            lags.append(time.monotonic() - before - 0.02)

    async with make_client(transport=httpx.MockTransport(handler)) as client:
        requester = Requester(client, CountingTokens())
        beat = asyncio.create_task(heartbeat())
        started = time.monotonic()
        await requester.send(get())
        waited = time.monotonic() - started
        done.set()
        await beat
    assert waited >= 1.4, "the Retry-After was honoured"
    assert len(lags) > 40, "the heartbeat kept running during the wait"
    assert max(lags) <= 0.1, f"scheduling lag {max(lags) * 1000:.0f} ms"


async def test_a_write_is_not_retried_after_a_read_timeout() -> None:
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request.method)
        raise httpx.ReadTimeout("no answer", request=request)

    async with make_client(transport=httpx.MockTransport(handler)) as client:
        requester = Requester(client, CountingTokens())
        with pytest.raises(TransientError):
            await requester.send(get(method="PATCH"))
        assert calls == ["PATCH"], "a PATCH that may have landed is not sent twice"
        calls.clear()
        with pytest.raises(TransientError):
            await requester.send(get())
        assert len(calls) > 1, "an idempotent GET is retried"
