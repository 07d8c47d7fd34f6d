"""A daemon whose page people sign in to through the emulator's Entra ID, over a world where
customer c1's PAL is held by another partner (an open finding to act on).

``page_daemon`` starts the emulator on the agent's own world file (one partner tenant, one app
registration: the page signs in through the partner's app) and the daemon with
``[http.sign_in]``; ``browser`` is an httpx client that reaches the page in process (its WSGI
application, so an https public URL and Secure cookies can be tested without TLS in front) or
over the network, and the emulator over TLS, with one cookie jar, like a browser.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import httpx

from agent.app import Agent, utc_now
from agent.config import load_settings
from agent.daemon import Daemon
from standin.emulator import Emulator
from standin.emulator.tokens import admin_upn
from tests.e2e.test_cycles import make_config, write_world
from tests.emulator.support import ssl_context
from tests.worlds import APP_ID, C1, C2, PARTNER_TENANT, SUB1, SUB2, customer

OPERATOR = admin_upn(PARTNER_TENANT)
"""Who the emulator signs in when no login hint names anyone: an operator here."""
VIEWER = "viewer@partner.example"
STRANGER = "stranger@partner.example"
SECRET = "test-secret-value-1"


@dataclass
class Page:
    daemon: Daemon
    emulator: Emulator
    url: str
    """The page's public URL."""

    @property
    def store(self) -> Any:
        return self.daemon.agent.store

    def finding(self, rule: str = "link_held_by_other") -> Any:
        return next(f for f in self.store.findings() if f.rule == rule)


def write_page_agent(folder: Path, emulator: Emulator, public_url: str, port: int = 0) -> Path:
    config = make_config(folder)
    config.write_text(
        config.read_text()
        + '[schedule]\ninterval = "24h"\n'
        + f'[http]\nport = {port}\npublic_url = "{public_url}"\n'
        + "[http.sign_in]\n"
        + f'client_id = "{APP_ID}"\nclient_secret = "{SECRET}"\n'
        + f'operators = ["{OPERATOR}"]\nviewers = ["{VIEWER}"]\nsession_lifetime = "1h"\n'
        + f'[cloud]\nauthority_host = "{emulator.base_url}"\nca_bundle = "{emulator.ca_path}"\n'
    )
    return config


@contextmanager
def page_daemon(
    folder: Path, public_url: str, *, port: int = 0, clock: Any = utc_now
) -> Iterator[Page]:
    write_world(folder, customer(C1, SUB1, pal="9999999"), customer(C2, SUB2))
    with Emulator(folder / "world.json", ca_out=folder / "emulator-ca.pem") as emulator:
        config = write_page_agent(folder, emulator, public_url, port)
        with Agent(load_settings(config), clock=clock) as agent:
            daemon = Daemon(agent)
            daemon.start()
            try:
                daemon.cycle()
                assert daemon.server is not None
                yield Page(daemon, emulator, public_url)
            finally:
                daemon.stop()


@contextmanager
def browser(page: Page, *, in_process: bool) -> Iterator[httpx.Client]:
    """A cookie-keeping client for the page and the emulator (redirects are followed by hand
    or with ``follow_redirects=True`` per request)."""
    mounts: dict[str, httpx.BaseTransport] = {}
    if in_process:
        assert page.daemon.server is not None
        mounts[page.url] = httpx.WSGITransport(app=page.daemon.server.app)
    transport = httpx.HTTPTransport(verify=ssl_context(page.emulator.ca_path))
    with httpx.Client(transport=transport, mounts=mounts, timeout=30) as client:
        yield client


class _Forms(HTMLParser):
    """Every form of a page: its action and its fields' values."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "form":
            self.forms.append((found.get("action") or "", {}))
        elif tag == "input" and self.forms and found.get("name"):
            self.forms[-1][1][found["name"] or ""] = found.get("value") or ""


def forms(html: str) -> list[tuple[str, dict[str, str]]]:
    parser = _Forms()
    parser.feed(html)
    return parser.forms


def sign_in_steps(
    client: httpx.Client, page: Page, login_hint: str | None = None
) -> list[httpx.Response]:
    """The whole sign-in as a browser goes through it: every answer, the page it lands on
    last."""
    params = {"next": "/findings", **({"login_hint": login_hint} if login_hint else {})}
    answer = client.get(f"{page.url}/signin", params=params, follow_redirects=True)
    steps = [*answer.history, answer]
    if 'name="hiddenform"' in answer.text:  # form_post: what the page's script submits
        (action, fields), *_ = forms(answer.text)
        answer = client.post(action, data=fields, follow_redirects=True)
        steps += [*answer.history, answer]
    return steps


def sign_in(client: httpx.Client, page: Page, login_hint: str | None = None) -> httpx.Response:
    """Sign in; the page it lands on."""
    return sign_in_steps(client, page, login_hint)[-1]


def act(
    client: httpx.Client, page: Page, fingerprint: str, origin: str | None = None, **form: str
) -> httpx.Response:
    """Post one action from the finding's page, with the CSRF token the page holds."""
    shown = client.get(f"{page.url}/findings/{fingerprint}")
    assert shown.status_code == 200, shown.text
    token = next(f["csrf"] for _a, f in forms(shown.text) if "csrf" in f)
    headers = {"Origin": origin or page.url}
    return client.post(
        f"{page.url}/findings/{fingerprint}", data={"csrf": token, **form}, headers=headers
    )
