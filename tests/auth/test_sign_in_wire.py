"""MSAL's calls on the sign-in client's own transport go below httpx: the same bytes on the wire
as through ``httpx.Client.send``, the same answers as MSAL reads them, and no cookie kept either
way."""

from __future__ import annotations

import asyncio
import gzip
import re
import ssl
from typing import Any

import httpx
import pytest

from agent.auth import MsalHttpClient
from connectors.http.client import SignInClient
from connectors.http.sync_transport import SyncHttp11Transport
from tests.connectors.rawserver import server

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class HttpxOnly(httpx.BaseTransport):
    """The same transport seen through httpx's interface only."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self.inner.handle_request(request)


CALLS: dict[str, dict[str, Any]] = {
    "token": {
        "method": "post",
        "path": "/t/oauth2/v2.0/token",
        "data": {"client_id": "c", "scope": "https://graph/.default", "assertion": b"eyJ x+y"},
        "headers": {"Accept": "application/json", "client-request-id": "r", "x-client-sku": "p"},
    },
    "empty-form": {"method": "post", "path": "/t/oauth2/v2.0/token", "data": {}},
    "discovery": {"method": "get", "path": "/t/v2.0/.well-known/openid-configuration"},
    "with-params": {"method": "get", "path": "/t/x?a=1", "params": {"b": "2"}},
}

ANSWER = gzip.compress(b'{"access_token": "t"}')
REPLY = (
    b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nSet-Cookie: fpc=1; path=/\r\n"
    b"Content-Length: %d\r\n\r\n" % len(ANSWER) + ANSWER
)


def _call(native: bool, origin: str, call: dict[str, Any]) -> tuple[Any, ...]:
    inner = SyncHttp11Transport(ssl.create_default_context())
    with SignInClient(inner if native else HttpxOnly(inner), timeout=5) as client:
        assert (client.native is not None) is native
        msal_http = MsalHttpClient(client)
        kwargs = {k: v for k, v in call.items() if k not in ("method", "path")}
        answers = [getattr(msal_http, call["method"])(origin + call["path"], **kwargs)]
        answers.append(getattr(msal_http, call["method"])(origin + call["path"], **kwargs))
    # What MSAL reads of an answer (msal.throttled_http_client.NormalizedResponse).
    return tuple((a.status_code, sorted(a.headers.items()), a.text) for a in answers)


@pytest.mark.parametrize("name", sorted(CALLS))
async def test_a_sign_in_call_goes_on_the_wire_as_httpx_would_send_it(name: str) -> None:
    heads: list[bytes] = []

    def answer(head: bytes) -> bytes:
        heads.append(re.sub(rb"python-httpx/[0-9.]+", b"httpx", head))
        return REPLY

    async with server(answer) as (origin, _seen):
        through_httpx = await asyncio.to_thread(_call, False, origin, CALLS[name])
        below_httpx = await asyncio.to_thread(_call, True, origin, CALLS[name])
    assert below_httpx == through_httpx
    assert through_httpx[0][2] == '{"access_token": "t"}'
    assert heads[:2] == heads[2:], "the same bytes, and no cookie sent back"
    assert not any(b"fpc" in head for head in heads)
