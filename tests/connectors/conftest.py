"""Fixtures of the live-connector tests: a token provider that counts, a virtual clock, and
requesters wired to an ``httpx.MockTransport`` (the same seams production uses)."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from connectors.endpoints import CloudEndpoints
from connectors.errors import AuthError
from connectors.http import Requester, ScopeGate, make_client
from connectors.retry_after import RetryPolicy

PARTNER = "7a11ce00-0000-4000-8000-000000000001"
CUSTOMER = "c0000000-0000-4000-8000-000000000001"
ENDPOINTS = CloudEndpoints.public()


def jwt_with(claims: dict[str, Any]) -> str:
    """An unsigned JWT-shaped token carrying ``claims`` (what an Entra access token looks like)."""

    def part(data: dict[str, Any]) -> str:
        raw = json.dumps(data).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}.c2lnbmF0dXJl"


class CountingTokens:
    """A token provider that hands out ``token-<n>`` (or a given JWT) and records each call."""

    def __init__(self, token: str | None = None, *, refuse: bool = False) -> None:
        self.calls: list[dict[str, Any]] = []
        self.fixed = token
        self.refuse = refuse

    async def token(
        self, tenant_id: str, resource: str, *, identity: str | None = None,
        force_refresh: bool = False,
    ) -> str:
        self.calls.append({"tenant": tenant_id, "resource": resource, "identity": identity,
                           "force_refresh": force_refresh})
        if self.refuse:
            raise AuthError("token request refused", aadsts="AADSTS7000215")
        return self.fixed or f"token-{len(self.calls)}"


class VirtualClock:
    """Monotonic time that only moves when someone sleeps: retries cost no wall time."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


Handler = Callable[[httpx.Request], httpx.Response]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def tokens() -> CountingTokens:
    return CountingTokens()


@pytest.fixture
def clock() -> VirtualClock:
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
    client_for: Callable[[Handler], httpx.AsyncClient], tokens: CountingTokens,
    clock: VirtualClock,
) -> Callable[..., Requester]:
    """A requester on virtual time serving ``handler`` (``tokens=`` and ``retry=`` optional)."""

    def make(handler: Handler, **kw: Any) -> Requester:
        return Requester(
            client_for(handler),
            kw.pop("tokens", tokens),
            gate=ScopeGate(clock=clock, sleep=clock.sleep),
            sleep=clock.sleep,
            retry=kw.pop("retry", RetryPolicy()),
            **kw,
        )

    return make
