"""The web sign-in against the emulator, driven by MSAL as a web app drives it: /authorize
approves and sends the browser back with a code and the state; the code grant answers with an
ID token naming the user, with the request's nonce; a code is redeemed once, by its client, for
its redirect URI, with the PKCE verifier of its challenge."""

from __future__ import annotations

from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import msal
import pytest

from standin.emulator import Emulator
from standin.emulator.tokens import admin_upn, user_object_id
from tests.emulator.support import APP_ID, PARTNER, SECRET, ssl_context

BACK = "http://127.0.0.1:9/auth/callback"


@pytest.fixture
def browser(emulator: Emulator) -> Iterator[httpx.Client]:
    with httpx.Client(verify=ssl_context(emulator.ca_path), follow_redirects=False) as http:
        yield http


def web_app(emulator: Emulator, http: httpx.Client) -> msal.ConfidentialClientApplication:
    return msal.ConfidentialClientApplication(
        APP_ID,
        client_credential=SECRET,
        authority=f"{emulator.base_url}/{PARTNER}",
        instance_discovery=False,
        http_client=http,
    )


class _Form(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.action = ""
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "form":
            self.action = found.get("action") or ""
        elif tag == "input" and found.get("type") == "hidden":
            self.fields[found.get("name") or ""] = found.get("value") or ""


def posted_form(page: str) -> tuple[str, dict[str, str]]:
    """What a browser running the form_post page posts, and where: (action, fields)."""
    form = _Form()
    form.feed(page)
    return form.action, form.fields


def sign_in(
    app: msal.ConfidentialClientApplication, browser: httpx.Client, **kw: Any
) -> tuple[dict[str, Any], dict[str, str]]:
    """Start the flow (form_post, as MSAL recommends) and follow /authorize as a browser
    would: (the flow, what is posted back to the redirect URI)."""
    flow = app.initiate_auth_code_flow([], redirect_uri=BACK, response_mode="form_post", **kw)
    answer = browser.get(flow["auth_uri"])
    assert answer.status_code == 200, answer.text
    action, fields = posted_form(answer.text)
    assert action == BACK
    return flow, fields


def test_msal_signs_the_administrator_in_with_pkce_and_a_nonce(
    emulator: Emulator, browser: httpx.Client
) -> None:
    app = web_app(emulator, browser)
    flow, back = sign_in(app, browser)
    assert back["state"] == flow["state"] and back["code"]
    query = dict(parse_qsl(urlsplit(flow["auth_uri"]).query))
    assert query["code_challenge_method"] == "S256" and query["code_challenge"]
    result = app.acquire_token_by_auth_code_flow(flow, back)
    assert "error" not in result, result
    claims = result["id_token_claims"]
    assert claims["preferred_username"] == admin_upn(PARTNER)
    assert claims["oid"] == user_object_id(PARTNER) and claims["tid"] == PARTNER
    assert claims["aud"] == APP_ID and claims["name"] == "Partner administrator"
    assert claims["iss"] == f"{emulator.base_url}/{PARTNER}/v2.0"


def test_the_code_can_come_back_in_the_query_of_a_redirect(
    emulator: Emulator, browser: httpx.Client
) -> None:
    app = web_app(emulator, browser)
    with pytest.warns(UserWarning, match="form_post"):  # MSAL prefers form_post
        flow = app.initiate_auth_code_flow([], redirect_uri=BACK)
    answer = browser.get(flow["auth_uri"])
    assert answer.status_code == 302
    location = answer.headers["Location"]
    assert location.startswith(BACK + "?")
    back = dict(parse_qsl(urlsplit(location).query))
    claims = app.acquire_token_by_auth_code_flow(flow, back)["id_token_claims"]
    assert claims["preferred_username"] == admin_upn(PARTNER)


def test_the_login_hint_names_who_signs_in(emulator: Emulator, browser: httpx.Client) -> None:
    app = web_app(emulator, browser)
    flow, back = sign_in(app, browser, login_hint="Ana.Lopez@partner.example")
    claims = app.acquire_token_by_auth_code_flow(flow, back)["id_token_claims"]
    assert claims["preferred_username"] == "ana.lopez@partner.example"
    assert claims["name"] == "Ana Lopez"
    again, back_again = sign_in(app, browser, login_hint="ana.lopez@partner.example")
    same = app.acquire_token_by_auth_code_flow(again, back_again)["id_token_claims"]
    assert same["oid"] == claims["oid"] != user_object_id(PARTNER), "one user, one object id"


def _redeem(emulator: Emulator, browser: httpx.Client, **form: str) -> httpx.Response:
    data = {"grant_type": "authorization_code", "client_id": APP_ID, "client_secret": SECRET}
    return browser.post(f"{emulator.base_url}/{PARTNER}/oauth2/v2.0/token", data={**data, **form})


def test_a_code_is_redeemed_once_with_its_verifier_and_redirect_uri(
    emulator: Emulator, browser: httpx.Client
) -> None:
    app = web_app(emulator, browser)
    flow, back = sign_in(app, browser)
    proof = {"code": back["code"], "redirect_uri": BACK, "code_verifier": flow["code_verifier"]}
    wrong = _redeem(emulator, browser, **{**proof, "code_verifier": "x" * 43})
    assert wrong.status_code == 400 and "AADSTS50148" in wrong.json()["error_description"]

    flow, back = sign_in(app, browser)
    proof = {"code": back["code"], "redirect_uri": BACK, "code_verifier": flow["code_verifier"]}
    elsewhere = _redeem(emulator, browser, **{**proof, "redirect_uri": "http://127.0.0.1:9/x"})
    assert elsewhere.json()["error"] == "invalid_grant"

    flow, back = sign_in(app, browser)
    proof = {"code": back["code"], "redirect_uri": BACK, "code_verifier": flow["code_verifier"]}
    assert _redeem(emulator, browser, **proof).status_code == 200
    twice = _redeem(emulator, browser, **proof)
    assert twice.status_code == 400 and "AADSTS54005" in twice.json()["error_description"]
    no_secret = _redeem(emulator, browser, **{**proof, "client_secret": "wrong-secret-1"})
    assert no_secret.status_code == 401, "a confidential client must prove itself"


def test_what_cannot_be_sent_back_is_a_page_and_the_rest_goes_back_as_an_error(
    emulator: Emulator, browser: httpx.Client
) -> None:
    authorize = f"{emulator.base_url}/{PARTNER}/oauth2/v2.0/authorize"
    base = {"client_id": APP_ID, "response_type": "code", "redirect_uri": BACK, "state": "s1"}
    unknown_app = browser.get(authorize, params={**base, "client_id": "0" * 8 + APP_ID[8:]})
    assert unknown_app.status_code == 400 and "AADSTS700016" in unknown_app.text
    no_return = browser.get(authorize, params={**base, "redirect_uri": "javascript:alert(1)"})
    assert no_return.status_code == 400 and "AADSTS50011" in no_return.text
    token_flow = browser.get(authorize, params={**base, "response_type": "token"})
    assert token_flow.status_code == 302
    assert dict(parse_qsl(urlsplit(token_flow.headers["Location"]).query)) == {
        "error": "unsupported_response_type",
        "state": "s1",
    }
