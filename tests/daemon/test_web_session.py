"""The page's sessions, roles and request checks, without a server: what a signed cookie holds
and when it stops being honoured, who gets which role, which POSTs count as this page's own,
and where a sign-in may send the browser back to."""

from __future__ import annotations

from datetime import timedelta

import pytest

from agent.web.roles import Identity, Role, Roles
from agent.web.session import Sessions, Signer
from agent.web.wire import local_path, same_origin
from tests.conftest import T0

KEY = b"k" * 32
ANA = Identity("Ana", "ana@partner.example", "0a000000-0000-4000-8000-000000000001")
GROUP = "9a000000-0000-4000-8000-0000000000f1"
ROLES = Roles.of(["ana@partner.example", GROUP], ["*"])


def sessions(key: bytes = KEY, roles: Roles = ROLES) -> Sessions:
    return Sessions(Signer(key), timedelta(hours=8), roles.digest())


def test_a_sealed_session_opens_until_it_ends() -> None:
    session, cookie = sessions().seal(ANA, Role.OPERATOR, T0)
    opened = sessions().open(cookie, T0 + timedelta(hours=7, minutes=59))
    assert opened == session and opened.can_act
    assert sessions().open(cookie, T0 + timedelta(hours=8)) is None, "ended"


def test_an_altered_or_foreign_cookie_is_not_a_session() -> None:
    _, cookie = sessions().seal(ANA, Role.VIEWER, T0)
    body, mac = cookie.split(".")
    promoted = Signer(KEY).dumps("flow", {"role": "operator"})  # signed, for another purpose
    for forged in (f"{body}x.{mac}", f"{body}.{mac[:-1]}A", promoted, "", "a.b.c", "é.é"):
        assert sessions().open(forged, T0) is None, forged
    assert sessions(key=b"o" * 32).open(cookie, T0) is None, "another key"


def test_a_session_granted_under_other_roles_is_not_honoured() -> None:
    _, cookie = sessions().seal(ANA, Role.OPERATOR, T0)
    narrower = Roles.of([], ["*"])
    assert sessions(roles=narrower).open(cookie, T0) is None


def test_the_csrf_token_belongs_to_its_session() -> None:
    mine, _ = sessions().seal(ANA, Role.OPERATOR, T0)
    other, _ = sessions().seal(ANA, Role.OPERATOR, T0)
    token = sessions().csrf(mine)
    assert sessions().csrf_ok(mine, token)
    assert not sessions().csrf_ok(other, token)
    assert not sessions().csrf_ok(mine, None) and not sessions().csrf_ok(mine, "ü" + token)


@pytest.mark.parametrize(
    ("who", "role"),
    [
        (ANA, Role.OPERATOR),
        (Identity("Bo", "BO@partner.example", "0b", (GROUP.upper(),)), Role.OPERATOR),
        (Identity("Cy", "cy@partner.example", "0c"), Role.VIEWER),
    ],
    ids=["by user principal name", "by group id", "everyone reads"],
)
def test_roles_by_name_object_id_or_group(who: Identity, role: Role) -> None:
    assert ROLES.role_of(who) is role


def test_someone_on_no_list_has_no_role() -> None:
    only = Roles.of(["ana@partner.example"], [ANA.oid.replace("1", "2")])
    assert only.role_of(Identity("Cy", "cy@partner.example", "0c")) is None
    assert only.role_of(ANA) is Role.OPERATOR


ORIGIN = "https://partnerlink.example.com"


@pytest.mark.parametrize(
    ("headers", "ours"),
    [
        ({"HTTP_ORIGIN": ORIGIN}, True),
        ({"HTTP_ORIGIN": "https://evil.example"}, False),
        ({"HTTP_ORIGIN": "null"}, False),
        ({"HTTP_REFERER": ORIGIN + "/findings/ab"}, True),
        ({"HTTP_REFERER": ORIGIN + ".evil.example/x"}, False),
        ({}, False),
        ({"HTTP_ORIGIN": ORIGIN, "HTTP_SEC_FETCH_SITE": "cross-site"}, False),
    ],
)
def test_a_post_is_ours_only_from_our_origin(headers: dict[str, str], ours: bool) -> None:
    assert same_origin(headers, ORIGIN) is ours  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("asked", "kept"),
    [
        ("/findings/abc?done=ack", "/findings/abc?done=ack"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("/a\r\nSet-Cookie: x=1", "/"),
        (None, "/"),
    ],
)
def test_sign_in_goes_back_only_to_a_path_of_this_page(asked: str | None, kept: str) -> None:
    assert local_path(asked) == kept
