"""Signing in to the daemon's page through the emulator's Entra ID and acting on findings,
with the page served in process at an https address (form_post, Secure cookies): who gets in
with which role, and every way an action is refused before the store is touched."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from tests.conftest import Clock
from tests.daemon.signin import (
    OPERATOR,
    STRANGER,
    VIEWER,
    Page,
    act,
    browser,
    forms,
    page_daemon,
    sign_in,
    sign_in_steps,
)

URL = "https://partnerlink.test"


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def page(tmp_path: Path, clock: Clock) -> Iterator[Page]:
    with page_daemon(tmp_path, URL, clock=clock) as started:
        yield started


@pytest.fixture
def client(page: Page) -> Iterator[httpx.Client]:
    with browser(page, in_process=True) as made:
        yield made


def test_an_operator_signs_in_with_form_post_and_gets_a_hardened_session(
    page: Page, client: httpx.Client
) -> None:
    steps = sign_in_steps(client, page)
    landed = steps[-1]
    assert landed.status_code == 200 and landed.url == f"{URL}/findings"
    assert OPERATOR in landed.text and "operator" in landed.text
    (start,) = [r for r in steps if r.url.path == "/signin"]
    flow_cookie = start.headers["set-cookie"]
    assert (
        "SameSite=None" in flow_cookie and "Secure" in flow_cookie and "Path=/auth" in flow_cookie
    )
    (callback,) = [r for r in steps if r.url.path == "/auth/callback"]
    assert callback.request.method == "POST", "the code came back in a form post"
    session = next(v for k, v in callback.headers.multi_items() if "__Host-partnerlink=" in v)
    for flag in ("HttpOnly", "SameSite=Lax", "Secure", "Path=/", "Max-Age=3600"):
        assert flag in session
    finding = page.finding()
    shown = client.get(f"{URL}/findings/{finding.fingerprint}")
    assert [a for a, _ in forms(shown.text) if a.startswith("/findings/")], "operators act"


def test_unauthenticated_requests_are_sent_to_sign_in(page: Page, client: httpx.Client) -> None:
    for path in ("/findings", f"/findings/{page.finding().fingerprint}", "/"):
        answer = client.get(URL + path, headers={"Accept": "text/html"})
        assert answer.status_code == 303, path
        assert answer.headers["Location"].startswith("/signin?next=")
    assert client.get(URL + "/findings").status_code == 401, "a script without a session: 401"


def test_a_viewer_reads_but_cannot_act(page: Page, client: httpx.Client) -> None:
    landed = sign_in(client, page, login_hint=VIEWER)
    assert landed.status_code == 200 and "viewer" in landed.text
    finding = page.finding()
    shown = client.get(f"{URL}/findings/{finding.fingerprint}")
    assert shown.status_code == 200 and finding.title in shown.text
    assert not [a for a, _ in forms(shown.text) if a.startswith("/findings/")], "no forms"
    token = next(f["csrf"] for _a, f in forms(shown.text) if "csrf" in f)  # the sign-out form
    refused = client.post(
        f"{URL}/findings/{finding.fingerprint}",
        data={"csrf": token, "act": "ack", "reason": "x"},
        headers={"Origin": URL},
    )
    assert refused.status_code == 403 and "operator role" in refused.text
    assert page.store.finding(finding.fingerprint).status == "open"


def test_someone_with_no_role_is_turned_away(page: Page, client: httpx.Client) -> None:
    landed = sign_in(client, page, login_hint=STRANGER)
    assert landed.status_code == 403 and STRANGER in landed.text
    assert not [c for c in client.cookies.jar if c.name == "__Host-partnerlink"]


def test_a_post_without_the_sessions_csrf_token_or_from_elsewhere_is_refused(
    page: Page, client: httpx.Client
) -> None:
    sign_in(client, page)
    finding = page.finding()
    target = f"{URL}/findings/{finding.fingerprint}"
    forged = client.post(target, data={"csrf": "x" * 43, "act": "ack"}, headers={"Origin": URL})
    assert forged.status_code == 403 and "CSRF" in forged.text
    missing = client.post(target, data={"act": "ack"}, headers={"Origin": URL})
    assert missing.status_code == 403
    elsewhere = act(client, page, finding.fingerprint, origin="https://evil.example", act="ack")
    assert elsewhere.status_code == 403 and "another site" in elsewhere.text
    no_origin = client.post(target, data={"act": "ack"})
    assert no_origin.status_code == 403
    assert client.get(target).status_code == 200
    assert page.store.finding(finding.fingerprint).status == "open", "nothing was stored"
    assert page.store.finding_events(finding.fingerprint)[-1].actor is None


def test_an_expired_session_goes_back_to_sign_in(
    page: Page, client: httpx.Client, clock: Clock
) -> None:
    sign_in(client, page)
    assert client.get(f"{URL}/findings").status_code == 200
    clock.advance(hours=1)
    html = {"Accept": "text/html"}
    ended = client.get(f"{URL}/findings", headers=html)
    assert ended.status_code == 303 and ended.headers["Location"].startswith("/signin")
    refused = act_after_expiry(client, page)
    assert refused.status_code == 303, "an action with an ended session acts on nothing"
    assert page.store.finding(page.finding().fingerprint).status == "open"


def act_after_expiry(client: httpx.Client, page: Page) -> httpx.Response:
    target = f"{URL}/findings/{page.finding().fingerprint}"
    return client.post(target, data={"csrf": "x", "act": "ack"}, headers={"Origin": URL})


def test_an_operator_acts_and_the_page_tells_who_did_what_and_why(
    page: Page, client: httpx.Client, clock: Clock
) -> None:
    sign_in(client, page)
    finding = page.finding()
    done = act(client, page, finding.fingerprint, act="assign", owner="Bo Ops", reason="")
    assert done.status_code == 303
    assert done.headers["Location"] == f"/findings/{finding.fingerprint}?done=assign"
    why = "customer chose that partner <on purpose>"
    act(client, page, finding.fingerprint, act="dismiss", reason=why)
    stored = page.store.finding(finding.fingerprint)
    assert (stored.status, stored.owner, stored.note) == ("dismissed", "Bo Ops", why)
    shown = client.get(f"{URL}/findings/{finding.fingerprint}?done=dismiss").text
    assert "accepted risk" in shown and OPERATOR in shown
    assert "&lt;on purpose&gt;" in shown and "<on purpose>" not in shown
    no_reason = act(client, page, finding.fingerprint, act="dismiss", reason=" ")
    assert no_reason.status_code == 409 and "reason is missing" in no_reason.text
    later = (clock() + timedelta(days=3)).date().isoformat()
    snoozed = act(client, page, finding.fingerprint, act="snooze", until=later, reason="")
    assert snoozed.status_code == 303
    past = act(client, page, finding.fingerprint, act="snooze", until="2020-01-01")
    assert past.status_code == 400 and "in the past" in past.text
    reopened = act(client, page, finding.fingerprint, act="reopen", reason="")
    assert reopened.status_code == 303 and page.store.finding(finding.fingerprint).status == "open"
    actions = [(e.action, e.actor) for e in page.store.finding_events(finding.fingerprint)]
    assert actions[-4:] == [
        ("assign", OPERATOR),
        ("dismiss", OPERATOR),
        ("snooze", OPERATOR),
        ("reopen", OPERATOR),
    ]


def test_signing_out_ends_the_session_in_this_browser(page: Page, client: httpx.Client) -> None:
    landed = sign_in(client, page)
    token = next(f["csrf"] for a, f in forms(landed.text) if a == "/signout")
    out = client.post(f"{URL}/signout", data={"csrf": token}, headers={"Origin": URL})
    assert out.status_code == 200 and "signed out" in out.text
    assert client.get(f"{URL}/findings", headers={"Accept": "text/html"}).status_code == 303


def test_the_report_keeps_its_bearer_token_and_shows_a_signed_in_person_who_they_are(
    page: Page, client: httpx.Client
) -> None:
    page.daemon.render_page()
    assert client.get(f"{URL}/").status_code == 401
    sign_in(client, page, login_hint=VIEWER)
    report = client.get(f"{URL}/")
    assert report.status_code == 200 and VIEWER in report.text and "Customer c1" in report.text
    assert report.headers["Referrer-Policy"] == "same-origin"


def test_a_code_posted_to_another_browser_signs_nobody_in(page: Page, client: httpx.Client) -> None:
    started = client.get(f"{URL}/signin", follow_redirects=True)
    (action, fields), *_ = forms(started.text)
    with browser(page, in_process=True) as victim:
        planted = victim.post(action, data=fields)
        assert planted.status_code == 400 and "not started in this browser" in planted.text
        assert not [c for c in victim.cookies.jar if c.name == "__Host-partnerlink"]
    replayed = client.post(action, data={**fields, "state": "other"})
    assert replayed.status_code == 400
    again = client.post(action, data=fields)
    assert again.status_code == 400, "a refused answer ends the sign-in in flight"
