"""MSAL apps are kept per tenant and identity, but only so many: memory does not grow with the
estate (guarantee scale) while a tenant read again soon still gets its cached token (guarantee credentials)."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from agent.auth import AppCredential, MsalTokenProvider
from connectors.base import PARTNER_APP

AUTHORITY = "https://login.example.test"


def _handler(request: httpx.Request) -> httpx.Response:
    tenant = request.url.path.split("/")[1]
    if request.url.path.endswith("openid-configuration"):
        return httpx.Response(
            200,
            json={
                "authorization_endpoint": f"{AUTHORITY}/{tenant}/oauth2/v2.0/authorize",
                "token_endpoint": f"{AUTHORITY}/{tenant}/oauth2/v2.0/token",
                "issuer": f"{AUTHORITY}/{tenant}/v2.0",
            },
        )
    return httpx.Response(
        200,
        content=json.dumps(
            {"access_token": f"token-{tenant}", "expires_in": 3599, "token_type": "Bearer"}
        ),
    )


@pytest.mark.anyio
async def test_least_recently_used_apps_are_dropped_beyond_the_limit() -> None:
    http = httpx.Client(transport=httpx.MockTransport(_handler))  # MSAL's client is sync
    provider = MsalTokenProvider(
        AUTHORITY,
        "7a11ce00-0000-4000-8000-000000000001",
        {
            PARTNER_APP: AppCredential(
                client_id="a9900000-0000-4000-8000-0000000000a1", client_secret="secret-secret-1"
            )
        },
        http_client=http,
        max_clients=10,
    )
    tenants = [f"c0000000-0000-4000-8000-{n:012d}" for n in range(25)]
    for tenant in tenants:
        await provider.token(tenant, "https://graph.microsoft.com")
    assert len(provider._clients) == 10
    again: Any = await provider.acquire(tenants[-1], "https://graph.microsoft.com")
    assert again.token_source == "cache"
    http.close()  # noqa: ASYNC212 - a mock transport: nothing to wait for
