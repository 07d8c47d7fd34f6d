"""Fixtures of the live-connector tests: requesters wired to an ``httpx.MockTransport`` (the
same seams production uses) on virtual time."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from connectors.destinations import DownloadGuard
from connectors.http.client import make_client
from connectors.http.gate import ScopeGate
from connectors.http.requester import Requester
from connectors.retry_after import RetryPolicy
from tests.connectors.support import CountingTokens, FakeDns, Handler, VirtualClock


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def tokens() -> CountingTokens:
    return CountingTokens()


@pytest.fixture
def vclock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
async def client_for() -> AsyncIterator[Callable[[Handler], httpx.AsyncClient]]:
    """Makes clients serving ``handler``; every one is closed after the test."""
    clients: list[httpx.AsyncClient] = []

    def make(handler: Handler) -> httpx.AsyncClient:
        client = make_client(transport=httpx.MockTransport(handler))
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()


@pytest.fixture
def requester_for(
    client_for: Callable[[Handler], httpx.AsyncClient],
    tokens: CountingTokens,
    vclock: VirtualClock,
) -> Callable[..., Requester]:
    """A requester on virtual time serving ``handler`` (``tokens=``, ``retry=`` and
    ``downloads=`` optional; by default every download host resolves to a public address)."""

    def make(handler: Handler, **kw: Any) -> Requester:
        return Requester(
            client_for(handler),
            kw.pop("tokens", tokens),
            gate=ScopeGate(clock=vclock, sleep=vclock.sleep),
            sleep=vclock.sleep,
            retry=kw.pop("retry", RetryPolicy()),
            downloads=kw.pop("downloads", DownloadGuard(resolve=FakeDns())),
            **kw,
        )

    return make
