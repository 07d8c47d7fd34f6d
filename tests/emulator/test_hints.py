"""A client of the emulator turns the connectors' source extension into the emulator's header,
for the emulator's own origin only: the header never goes anywhere else."""

from __future__ import annotations

import httpx
import pytest

from connectors.http.client import ApiClient, make_client
from connectors.http.request import SOURCE_EXTENSION
from connectors.http.target import target_of
from connectors.http.wire import Head, WireRequest
from standin.emulator.hints import NativeSourceHints, SourceHints, source_hints

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


class _Exchanger(httpx.AsyncBaseTransport):
    """A transport that also sends a request below httpx, recording what it was given."""

    def __init__(self) -> None:
        self.sent: list[WireRequest] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return httpx.Response(200)

    async def exchange(self, wire: WireRequest) -> tuple[Head, object]:
        self.sent.append(wire)
        raise _Sent


class _Sent(Exception):
    pass


async def test_the_source_hint_rides_below_httpx_too_and_only_towards_the_emulator() -> None:
    inner = _Exchanger()
    wrapped = source_hints(ORIGIN)(inner)
    assert isinstance(wrapped, NativeSourceHints)
    assert isinstance(
        source_hints(ORIGIN)(httpx.MockTransport(lambda r: httpx.Response(200))), SourceHints
    )
    for url, source in [
        (f"{ORIGIN}/subscriptions", "arm.pal"),
        (f"{ORIGIN}/subscriptions", None),
        ("https://management.azure.com/subscriptions", "arm.pal"),
        ("https://127.0.0.1:9443/subscriptions", "arm.pal"),
        ("https://127.0.0.1:8443/subscriptions", "graph.gdap"),
    ]:
        wire = WireRequest("GET", url, target_of(url), [("Accept", "application/json")], {}, source)
        with pytest.raises(_Sent):
            await wrapped.exchange(wire)
    assert [dict(w.headers).get("x-partnerlink-source") for w in inner.sent] == [
        "arm.pal",
        None,
        None,
        None,
        "graph.gdap",
    ]


async def test_an_emulator_client_sends_its_tries_below_httpx_with_the_hint() -> None:
    """The composition root's client of the emulator (the connectors' own transport, wrapped)
    sends the requester's tries below httpx, as it does to Microsoft."""
    async with make_client(wrap=source_hints(ORIGIN)) as client:
        assert isinstance(client, ApiClient)
        assert isinstance(client.native, NativeSourceHints)
