"""Answers are bounded: a huge body, a gzip bomb and a lying Content-Length are cut at the cap,
on the wire and decoded, and fail as malformed without being retried or held in memory."""

from __future__ import annotations

import gzip
import json
import tracemalloc
import zlib
from collections.abc import Callable

import httpx
import pytest

from connectors.errors import MalformedResponse
from connectors.http.body import STEP, AnswerCaps, AnswerTooLarge, BodyMeter, size_text
from connectors.http.request import ApiRequest
from connectors.http.requester import Requester
from tests.connectors.support import Drip, gzip_bomb, zeros

pytestmark = pytest.mark.anyio

CAP = 1_000_000
CAPS = AnswerCaps(page=CAP, download=4 * CAP)
URL = "https://graph.microsoft.com/v1.0/subscribedSkus"


def page(**kw: object) -> ApiRequest:
    return ApiRequest(
        method="GET",
        url=URL,
        scope="graph:c",
        what="graph.skus for c",
        tenant_id="c",
        resource="https://graph.microsoft.com",
        **kw,  # type: ignore[arg-type]
    )


def download() -> ApiRequest:
    return ApiRequest(
        method="GET",
        url="https://reports.office.com/r.csv?sig=x",
        scope="graph-download:c",
        what="graph.usage for c (download)",
        pre_authenticated=True,
    )


class Server:
    """Serves one streamed body per request and counts the requests."""

    def __init__(self, body: Callable[[], Drip], headers: dict[str, str] | None = None) -> None:
        self.body = body
        self.headers = headers or {}
        self.bodies: list[Drip] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        drip = self.body()
        self.bodies.append(drip)
        return httpx.Response(200, headers=self.headers, stream=drip)


async def test_a_huge_body_is_cut_after_the_cap_and_one_chunk(
    requester_for: Callable[..., Requester],
) -> None:
    server = Server(lambda: Drip(zeros(300_000_000)))
    with pytest.raises(AnswerTooLarge, match=r"graph.skus for c: answer over 1 MB \(on the wire\)"):
        await requester_for(server, caps=CAPS).send(page())
    [body] = server.bodies  # a malformed answer is not asked for again
    assert body.pulled <= CAP + 64 * 1024
    assert body.closed, "the stream is cut, not drained"


async def test_a_gzip_bomb_is_cut_once_decoded_past_the_cap_reading_little_and_holding_little(
    requester_for: Callable[..., Requester],
) -> None:
    server = Server(lambda: Drip(gzip_bomb(1_300_000_000)), {"Content-Encoding": "gzip"})
    requester = requester_for(server, caps=CAPS)
    tracemalloc.start()
    try:
        with pytest.raises(AnswerTooLarge, match=r"answer over 1 MB \(decoded\)"):
            await requester.send(page())
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    [body] = server.bodies
    assert body.pulled < 50_000, "a few KB of the 1.3 GB bomb left the wire"
    assert body.closed
    assert peak < 4 * CAP, f"peak {peak} bytes while reading a bomb capped at {CAP}"


async def test_a_lying_content_length_changes_nothing(
    requester_for: Callable[..., Requester],
) -> None:
    server = Server(lambda: Drip(zeros(50_000_000)), {"Content-Length": "120"})
    with pytest.raises(AnswerTooLarge, match="on the wire"):
        await requester_for(server, caps=CAPS).send(page())
    assert server.bodies[0].pulled <= CAP + 64 * 1024


async def test_a_content_length_over_the_cap_fails_before_a_byte_is_read(
    requester_for: Callable[..., Requester],
) -> None:
    server = Server(lambda: Drip(zeros(5_000_000)), {"Content-Length": "5000000"})
    with pytest.raises(AnswerTooLarge, match=r"answer over 1 MB \(Content-Length\)"):
        await requester_for(server, caps=CAPS).send(page())
    assert server.bodies[0].pulled == 0
    assert server.bodies[0].closed


async def test_a_download_has_its_own_larger_cap(requester_for: Callable[..., Requester]) -> None:
    server = Server(lambda: Drip(zeros(2_000_000)))
    requester = requester_for(server, caps=CAPS)
    answer = await requester.send(download())
    assert len(answer.content) == 2_000_000
    with pytest.raises(AnswerTooLarge):
        await requester.send(page())


async def test_a_compressed_page_under_the_cap_is_read_and_decoded(
    requester_for: Callable[..., Requester],
) -> None:
    items = {"value": [{"skuId": f"s{i}", "capabilityStatus": "Enabled"} for i in range(5000)]}
    packed = gzip.compress(json.dumps(items).encode())
    server = Server(lambda: Drip([packed[:1000], packed[1000:]]), {"Content-Encoding": "gzip"})
    body = await requester_for(server, caps=CAPS).get_json(page())
    assert body == items


@pytest.mark.parametrize("wbits", [zlib.MAX_WBITS, -zlib.MAX_WBITS], ids=["zlib", "raw"])
async def test_deflate_is_read_wrapped_or_raw(
    requester_for: Callable[..., Requester], wbits: int
) -> None:
    packer = zlib.compressobj(6, zlib.DEFLATED, wbits)
    packed = packer.compress(b'{"value": []}') + packer.flush()
    server = Server(lambda: Drip([packed]), {"Content-Encoding": "deflate"})
    assert await requester_for(server, caps=CAPS).get_json(page()) == {"value": []}


async def test_an_encoding_the_agent_did_not_ask_for_is_malformed(
    requester_for: Callable[..., Requester],
) -> None:
    server = Server(lambda: Drip([b"\x1b\x00"]), {"Content-Encoding": "br"})
    with pytest.raises(MalformedResponse, match="did not ask for"):
        await requester_for(server, caps=CAPS).send(page())


async def test_a_corrupt_gzip_body_is_malformed(requester_for: Callable[..., Requester]) -> None:
    server = Server(lambda: Drip([b"not gzip at all"]), {"Content-Encoding": "gzip"})
    with pytest.raises(MalformedResponse, match="could not be decoded"):
        await requester_for(server, caps=CAPS).send(page())


async def test_an_error_answer_is_bounded_too(requester_for: Callable[..., Requester]) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, stream=Drip(zeros(20_000_000)))

    with pytest.raises(AnswerTooLarge):
        await requester_for(handler, caps=CAPS).send(page())


async def test_the_client_asks_only_for_the_encodings_it_inflates_in_steps(
    requester_for: Callable[..., Requester],
) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={})

    await requester_for(handler).send(page())
    assert seen[0].headers["Accept-Encoding"] == "gzip, deflate"


def test_the_meter_inflates_in_bounded_steps() -> None:
    meter = BodyMeter("gzip", 10 * CAP, "x")
    packed = gzip.compress(b"\0" * (3 * CAP))
    pieces = [*meter.feed(packed), *meter.finish()]
    assert max(len(p) for p in pieces) <= STEP
    assert sum(len(p) for p in pieces) == 3 * CAP
    assert (meter.raw, meter.decoded) == (len(packed), 3 * CAP)


def test_caps_are_spoken_in_decimal_units() -> None:
    assert size_text(50_000_000) == "50 MB"
    assert size_text(1_500_000_000) == "1.5 GB"
    assert size_text(64_000) == "64 KB"
    with pytest.raises(ValueError, match="positive"):
        AnswerCaps(page=0)
