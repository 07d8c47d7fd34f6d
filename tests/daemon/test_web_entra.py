"""What the page accepts of an ID token once MSAL has redeemed the code: one for this app, this
tenant, this issuer, not expired, naming a user; anything else signs nobody in."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from agent.web.entra import EntraSignIn, SignInFailed

APP = "a9900000-0000-4000-8000-0000000000a1"
TENANT = "7a11ce00-0000-4000-8000-000000000001"
AUTHORITY = f"https://login.example.test/{TENANT}"


@pytest.fixture
def entra() -> Iterator[EntraSignIn]:
    with httpx.Client() as http:
        yield EntraSignIn(
            client_id=APP,
            client_secret="s3cret-x",
            authority=AUTHORITY,
            tenant_id=TENANT,
            redirect_uri="https://pl.example.com/auth/callback",
            http=http,
        )


def claims(**changed: Any) -> dict[str, Any]:
    base = {
        "aud": APP,
        "tid": TENANT,
        "iss": f"{AUTHORITY}/v2.0",
        "exp": int(time.time()) + 600,
        "oid": "0A000000-0000-4000-8000-000000000001",
        "preferred_username": "Ana@Partner.example",
        "name": "Ana",
        "groups": ["9A000000-0000-4000-8000-0000000000F1"],
    }
    return {**base, **changed}


def test_a_token_for_this_app_and_tenant_names_the_person(entra: EntraSignIn) -> None:
    who = entra._identity(claims())
    assert (who.name, who.upn, who.oid) == (
        "Ana",
        "ana@partner.example",
        "0a000000-0000-4000-8000-000000000001",
    )
    assert who.groups == ("9a000000-0000-4000-8000-0000000000f1",)


@pytest.mark.parametrize(
    ("changed", "said"),
    [
        ({"aud": "b" + APP[1:]}, "another app"),
        ({"tid": "0" + TENANT[1:]}, "another tenant"),
        ({"iss": "https://login.example.test/other/v2.0"}, "another issuer"),
        ({"exp": int(time.time()) - 5}, "expired"),
        ({"exp": "soon"}, "expired"),
        ({"preferred_username": "", "upn": None}, "names no user"),
    ],
    ids=["audience", "tenant", "issuer", "expired", "no expiry", "no user"],
)
def test_any_other_token_signs_nobody_in(
    entra: EntraSignIn, changed: dict[str, Any], said: str
) -> None:
    with pytest.raises(SignInFailed, match=said):
        entra._identity(claims(**changed))


def test_an_error_from_microsoft_or_an_answer_for_another_browser_is_refused(
    entra: EntraSignIn,
) -> None:
    refused = {"error": "access_denied", "error_description": "AADSTS65004: declined\r\nTrace"}
    with pytest.raises(SignInFailed, match=r"AADSTS65004: declined$"):
        entra.finish("s1", refused)
    with pytest.raises(SignInFailed, match="not started in this browser"):
        entra.finish("s1", {"code": "c", "state": "s2"})
    with pytest.raises(SignInFailed, match="not started in this browser"):
        entra.finish(None, {"code": "c", "state": "s1"})
    with pytest.raises(SignInFailed, match="took too long or was used"):
        entra.finish("s1", {"code": "c", "state": "s1"})
