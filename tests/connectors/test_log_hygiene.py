"""guarantee no-secrets-out for the HTTP layer: no token, no pre-authenticated query string, no raw CR/LF in logs
or in error messages."""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from typing import Any

import httpx
import pytest
import structlog

from connectors.errors import ConnectorError, TransientError
from connectors.graph.reports import GraphUsageReports
from connectors.http.redact import escape, loggable_url
from connectors.http.request import ApiRequest
from connectors.http.requester import Requester
from tests.connectors.support import CUSTOMER, ENDPOINTS, PARTNER, CountingTokens, jwt_with

pytestmark = pytest.mark.anyio

TOKEN = jwt_with({"oid": "secret-oid", "tid": CUSTOMER, "sig": "tokensecret123"})
SIGNATURE = "sig=SUPERSECRETSIGNATURE"


def flattened(logs: list[MutableMapping[str, Any]]) -> str:
    return "\n".join(repr(entry) for entry in logs)


async def test_failing_requests_log_neither_token_nor_signature(
    requester_for: Callable[..., Requester],
) -> None:
    attempts = {"n": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        attempts["n"] += 1
        if request.url.host == "graph.microsoft.com":
            return httpx.Response(
                302, headers={"Location": f"https://reports.office.com/r.csv?sv=2020&{SIGNATURE}"}
            )
        if attempts["n"] < 3:
            return httpx.Response(401, json={"error": {"code": "x", "message": TOKEN}})
        return httpx.Response(
            500, json={"error": {"code": "InternalError", "message": "boom\r\nFAKE log line"}}
        )

    requester = requester_for(handler, tokens=CountingTokens(TOKEN))
    connector = GraphUsageReports(requester, ENDPOINTS, partner_tenant_id=PARTNER)
    with structlog.testing.capture_logs() as logs, pytest.raises(ConnectorError) as caught:
        [r async for r in connector.fetch(CUSTOMER)]
    text = flattened(logs)
    assert logs, "the failure was logged"
    assert TOKEN not in text
    assert "tokensecret123" not in text
    assert "SUPERSECRETSIGNATURE" not in text
    assert "\r\n" not in text
    message = str(caught.value)
    assert TOKEN not in message
    assert "SUPERSECRETSIGNATURE" not in message
    assert "\n" not in message


async def test_api_error_text_with_newlines_is_escaped(
    requester_for: Callable[..., Requester],
) -> None:
    body = {"error": {"code": "Bad\nCode", "message": "first\r\nsecond"}}
    requester = requester_for(lambda r: httpx.Response(503, json=body))
    request = ApiRequest(
        method="GET",
        url="https://graph.microsoft.com/v1.0/x?$filter=a",
        scope="graph:t",
        what="listing\nforged",
        tenant_id="t",
        resource="r",
    )
    with structlog.testing.capture_logs() as logs, pytest.raises(TransientError) as caught:
        await requester.send(request)
    assert "\n" not in str(caught.value)
    for entry in logs:
        for value in entry.values():
            assert "\n" not in str(value)
            assert "\r" not in str(value)
    assert all("$filter" not in str(entry.get("url", "")) for entry in logs)


def test_loggable_url_drops_query_and_escape_caps() -> None:
    assert loggable_url(f"https://h/p/r.csv?{SIGNATURE}") == "https://h/p/r.csv"
    assert escape("a\r\nb") == "a\\r\\nb"
    assert escape("x" * 500).endswith("...")
    assert len(escape("x" * 500)) == 303


async def test_the_token_never_reaches_the_download_host(
    requester_for: Callable[..., Requester],
) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.host == "graph.microsoft.com":
            return httpx.Response(302, headers={"Location": f"https://dl.example/x?{SIGNATURE}"})
        return httpx.Response(200, content=b"Report Refresh Date\n")

    requester = requester_for(handler, tokens=CountingTokens(TOKEN))
    connector = GraphUsageReports(requester, ENDPOINTS, partner_tenant_id=PARTNER)
    with pytest.raises(ConnectorError):  # the one-column CSV is malformed
        [r async for r in connector.fetch(CUSTOMER)]
    assert all(TOKEN not in str(dict(r.headers)) for r in seen if r.url.host == "dl.example")
