"""The identity platform's answers are bounded like every other: MSAL's HTTP calls stream under
the cap, and a sign-in answer over it is an auth error that says so."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from agent.auth import AppCredential, MsalHttpClient, MsalTokenProvider
from connectors.errors import AuthError, MalformedResponse
from standin.emulator import Emulator
from tests.connectors.support import Drip, gzip_bomb, zeros
from tests.emulator.support import APP_ID, C1, GRAPH, PARTNER, SECRET, ssl_context, world, write

TOKEN_URL = "https://login.microsoftonline.com/t/oauth2/v2.0/token"


def test_a_sign_in_answer_over_the_cap_is_an_auth_error_naming_the_cap(tmp_path: Path) -> None:
    with (
        Emulator(write(tmp_path / "w.json", world())) as emulator,
        httpx.Client(verify=ssl_context(emulator.ca_path)) as http,
    ):
        apps = {"partner-app": AppCredential(APP_ID, client_secret=SECRET)}
        small = MsalTokenProvider(emulator.base_url, PARTNER, apps, http_client=http, max_body=600)
        with pytest.raises(AuthError, match="answer over 600 bytes"):
            asyncio.run(small.token(C1, GRAPH))
        roomy = MsalTokenProvider(emulator.base_url, PARTNER, apps, http_client=http)
        assert asyncio.run(roomy.token(C1, GRAPH))


@pytest.mark.parametrize(
    ("body", "headers", "side"),
    [
        (lambda: Drip(gzip_bomb(1_000_000_000)), {"Content-Encoding": "gzip"}, "decoded"),
        (lambda: Drip(zeros(200_000_000)), {}, "on the wire"),
    ],
    ids=["gzip-bomb", "huge"],
)
def test_msal_http_calls_are_cut_at_the_cap(
    body: object, headers: dict[str, str], side: str
) -> None:
    drip: Drip = body()  # type: ignore[operator]
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, headers=headers, stream=drip)

    with httpx.Client(transport=httpx.MockTransport(handler)) as client:
        msal_http = MsalHttpClient(client, max_body=1_000_000)
        with pytest.raises(MalformedResponse, match=f"answer over 1 MB \\({side}\\)"):
            msal_http.post(TOKEN_URL, data={"client_assertion": b"eyJ"})
    assert drip.pulled <= 1_000_000 + 64 * 1024
    assert drip.closed
    assert seen[0].headers["Accept-Encoding"] == "gzip, deflate"
    assert b"client_assertion=eyJ" in seen[0].content  # bytes are still sent as text
