"""A client of the emulator turns the connectors' source extension into the emulator's header,
for the emulator's own origin only: the header never goes anywhere else."""

from __future__ import annotations

import httpx
import pytest

from connectors.http.client import make_client
from connectors.http.request import SOURCE_EXTENSION
from standin.emulator.hints import source_hints

pytestmark = pytest.mark.anyio

ORIGIN = "https://127.0.0.1:8443"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def test_the_source_hint_is_a_header_only_towards_the_emulator() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200)

    hint = {SOURCE_EXTENSION: "arm.pal"}
    wrap = source_hints(ORIGIN)
    async with make_client(transport=httpx.MockTransport(handler), wrap=wrap) as client:
        await client.get(f"{ORIGIN}/subscriptions", extensions=hint)
        await client.get(f"{ORIGIN}/subscriptions")
        await client.get("https://management.azure.com/subscriptions", extensions=hint)
        await client.get("https://127.0.0.1:9443/subscriptions", extensions=hint)
    assert [r.headers.get("x-partnerlink-source") for r in seen] == ["arm.pal", None, None, None]
