"""The requester below httpx, on the connectors' own transport: the same bytes on the wire as
through ``httpx.AsyncClient.send``, the same answers and the same errors."""

from __future__ import annotations

import gzip
import re
import ssl
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from connectors.destinations import DownloadGuard
from connectors.errors import MalformedResponse, PermanentError
from connectors.http.body import AnswerCaps
from connectors.http.client import make_client
from connectors.http.request import SOURCE_EXTENSION, ApiRequest
from connectors.http.requester import Requester
from connectors.http.transport import Http11Transport
from connectors.http.wire import Head, WireRequest
from tests.connectors.rawserver import server
from tests.connectors.support import CountingTokens

pytestmark = pytest.mark.anyio

_UUID = re.compile(rb"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


class HttpxOnly(httpx.AsyncBaseTransport):
    """The same transport seen through httpx's interface only: the requester goes through
    ``httpx.AsyncClient.send``."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


class Hinting(Http11Transport):
    """A transport that adds a header from the request's source, both ways (as the local
    emulator's hints do)."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        source = request.extensions.get(SOURCE_EXTENSION)
        if source:
            request.headers["x-source"] = source
        return await super().handle_async_request(request)

    async def exchange(self, wire: WireRequest) -> tuple[Head, Any]:
        if wire.source:
            wire.headers.append(("x-source", wire.source))
        return await super().exchange(wire)


def _requester(native: bool, origin: str, **kw: Any) -> Requester:
    inner = Hinting(ssl.create_default_context())
    client = make_client(transport=inner if native else HttpxOnly(inner))
    assert (client.native is not None) is native  # type: ignore[attr-defined]
    downloads = DownloadGuard(allow_origins=[origin])
    return Requester(client, CountingTokens(), downloads=downloads, **kw)


def _request(url: str, **kw: Any) -> ApiRequest:
    return ApiRequest(
        method=kw.pop("method", "GET"),
        url=url,
        scope=kw.pop("scope", "graph:t"),
        what="a read",
        tenant_id="t",
        resource="https://graph.microsoft.com",
        **kw,
    )


REQUESTS: dict[str, Callable[[str], ApiRequest]] = {
    "params": lambda o: _request(
        f"{o}/v1.0/contracts?stale=1",
        params={"$filter": "displayName eq 'a b'", "$top": "5"},
        headers={"ConsistencyLevel": "eventual", "accept": "application/json;odata=nometadata"},
    ),
    "partner-center": lambda o: _request(
        f"{o}/v1/customers/c/subscriptions", partner_center=True, source="pc.subscriptions"
    ),
    "bodiless-post": lambda o: _request(f"{o}/v1/things/x/refresh", method="POST"),
    "download": lambda o: _request(
        f"{o}/report.csv?sig=%2Fab%zz&x={{y}}`",
        pre_authenticated=True,
        headers={"Accept": "*/*", "Authorization": "never"},
    ),
    "httpx-parsed-url": lambda o: _request(f"{o}/a/./b/../caf\u00e9 x?q=\u00e9 #frag"),
}


@pytest.mark.parametrize("name", sorted(REQUESTS))
async def test_a_request_goes_on_the_wire_as_httpx_would_send_it(name: str) -> None:
    heads: list[bytes] = []

    def answer(head: bytes) -> bytes:
        heads.append(_UUID.sub(b"<uuid>", head))
        return b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"

    async with server(answer) as (origin, _seen):
        for native in (False, True):
            requester = _requester(native, origin)
            assert await requester.get_json(REQUESTS[name](origin)) == {}
            await requester.client.aclose()
    through_httpx, below_httpx = heads
    assert below_httpx == through_httpx


def _answer(status: int, body: bytes, *extra: bytes) -> bytes:
    return (
        b"HTTP/1.1 %d X\r\n" % status
        + b"".join(e + b"\r\n" for e in extra)
        + b"Content-Length: %d\r\n\r\n" % len(body)
        + body
    )


async def _both(reply: bytes, read: Callable[[Requester, str], Any], **kw: Any) -> list[Any]:
    """What ``read`` makes of ``reply`` through httpx, then below it."""
    out: list[Any] = []
    async with server(lambda _h: reply) as (origin, _seen):
        for native in (False, True):
            requester = _requester(native, origin, **kw)
            try:
                out.append(await read(requester, origin))
            except Exception as exc:  # compared, not raised
                out.append((type(exc), str(exc)))
            await requester.client.aclose()
    return out


async def test_an_answer_read_below_httpx_is_the_one_httpx_hands_over() -> None:
    body = gzip.compress(b'{"value": [1, 2]}')
    reply = _answer(
        200, body, b"Content-Encoding: gzip", b"X-Twice: a", b"x-twice: b", b"Caf: \xc3\xa9"
    )

    async def read(requester: Requester, origin: str) -> Any:
        response = await requester.send(_request(f"{origin}/v1.0/x", params={"a": "1"}))
        return (
            response.status_code,
            response.headers.multi_items(),
            response.headers.get("x-twice"),
            response.content,
            str(response.url),
        )

    through_httpx, below_httpx = await _both(reply, read)
    assert below_httpx == through_httpx
    assert below_httpx[3] == b'{"value": [1, 2]}'
    assert ("content-encoding", "gzip") not in below_httpx[1]


@pytest.mark.parametrize(
    "reply",
    [
        _answer(404, b'{"error": {"code": "NotFound", "message": "no such thing"}}'),
        _answer(200, b"[1, 2]"),
        _answer(200, b"not json"),
        _answer(200, b"x" * 2000),
    ],
    ids=["404", "not-an-object", "not-json", "over-the-cap"],
)
async def test_errors_below_httpx_are_the_ones_through_it(reply: bytes) -> None:
    async def read(requester: Requester, origin: str) -> Any:
        return await requester.get_json(_request(f"{origin}/v1.0/x"))

    through_httpx, below_httpx = await _both(reply, read, caps=AnswerCaps(page=1000))
    assert below_httpx == through_httpx
    assert issubclass(below_httpx[0], PermanentError | MalformedResponse)


async def test_a_redirect_is_read_the_same_below_httpx() -> None:
    reply = _answer(302, b"", b"Location: /download/report.csv?sig=abc")

    async def read(requester: Requester, origin: str) -> Any:
        answer = await requester.answer(_request(f"{origin}/v1.0/reports/x(period='D7')"))
        return answer.status_code, answer.headers.get("location"), str(answer.url), answer.content

    through_httpx, below_httpx = await _both(reply, read)
    assert below_httpx == through_httpx
    assert below_httpx[1] == "/download/report.csv?sig=abc"
