"""End to end: a person signs in to the daemon's page against the emulator's Entra ID
authorization endpoint (the authorization-code flow with PKCE, through MSAL, a browser's
redirects followed with one cookie jar), acknowledges a finding from its page with the
session's CSRF token, and the decision is in the store and in ``partnerlink explain``: who,
when and why. The page is the real daemon on waitress, on a free port."""

from __future__ import annotations

import io
import socket
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from agent import cli
from agent.cli import root as cli_root
from tests.daemon.signin import OPERATOR, act, browser, page_daemon, sign_in_steps
from tests.logs import project_logging


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_sign_in_at_the_emulator_and_acknowledge_a_finding_from_the_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    why = "on it with the customer this week"
    with page_daemon(tmp_path, url, port=port) as page, browser(page, in_process=False) as client:
        steps = sign_in_steps(client, page)
        authorize = [r for r in steps if r.url.path.endswith("/oauth2/v2.0/authorize")]
        assert authorize and authorize[0].url.scheme == "https", "Entra's authorization endpoint"
        assert authorize[0].url.params["code_challenge_method"] == "S256"
        landed = steps[-1]
        assert (landed.status_code, str(landed.url)) == (200, f"{url}/findings")
        finding = page.finding()
        assert finding.status == "open" and finding.title in landed.text

        done = act(client, page, finding.fingerprint, act="ack", reason=why, owner="Bo Ops")
        assert done.status_code == 303, done.text
        shown = client.get(url + done.headers["Location"])
        assert "Acknowledged." in shown.text and why in shown.text

        stored = page.store.finding(finding.fingerprint)
        assert (stored.status, stored.owner, stored.note) == ("acknowledged", "Bo Ops", why)
        last = page.store.finding_events(finding.fingerprint)[-1]
        assert (last.action, last.actor, last.from_status, last.to_status) == (
            "ack",
            OPERATOR,
            "open",
            "acknowledged",
        )
        when = last.at.isoformat(timespec="seconds")
        config = tmp_path / "partnerlink.toml"

    screen = io.StringIO()
    monkeypatch.setattr(cli_root, "out", Console(file=screen, width=400))
    with project_logging():
        result = CliRunner().invoke(
            cli.app, ["--config", str(config), "explain", finding.fingerprint[:12]]
        )
    assert result.exit_code == 0, result.output
    said = f"{when}  open → acknowledged  (ack by {OPERATOR}: {why}; owner Bo Ops)"
    assert said in screen.getvalue()
