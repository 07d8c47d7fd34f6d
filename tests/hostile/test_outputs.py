"""A table of hostile names (``names.py``) through every place the agent shows a name: the
connectors' readers, the terminal commands, CSV and JSON exports, the HTML report and the
daemon's page, the evidence pack, the demo's table and the logs. Each output is checked by the
inertness rule of its format (``inert.py``), and nothing may crash or go missing."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import structlog
from rich.console import Console
from typer.testing import CliRunner

from agent import cli, report_html
from agent import logging as plog
from agent.app import Agent
from agent.cli import credit_cmds
from agent.cli import root as cli_root
from agent.config import load_settings
from agent.daemon import Daemon
from agent.demo import summary
from agent.escape import for_html
from agent.report import evidence_pack
from agent.web.roles import Identity, Role, Roles
from agent.web.session import Sessions, Signer
from connectors.text import NAME_LIMIT, clean
from tests.conftest import Clock
from tests.hostile import inert
from tests.hostile.conftest import PARTNER_NAME, Estate, config_text, sync_and_audit
from tests.hostile.names import HOSTILE, benign, tenant, world
from tests.logs import kept_logging

CLEANED = {key: clean(name) for key, name in HOSTILE.items()}
NAME_KINDS = (
    "customer",
    "contract",
    "gdap_relationship",
    "csp_subscription",
    "azure_subscription",
    "subscribed_sku",
    "directory_subscription",
)
"""The records that carry a name from Microsoft."""
LITERAL = ("[/]", "[bold red]Fabrikam[/]", ":warning:", "<!channel>", "[click](http")
"""Pieces a terminal must show as written (rich would otherwise read them as markup or emoji)."""


def _keys(findings: list[Any]) -> set[tuple[str, str | None, str]]:
    return {(f.rule, f.customer_tenant_id, f.subject) for f in findings}


def _records(config: Path) -> dict[tuple[str, str | None, str], Any]:
    with Agent(load_settings(config)) as agent:
        return {
            (o.record.KIND, o.record.customer_tenant_id, o.record.key): o.record
            for o in agent.store.current(kinds=list(NAME_KINDS))
        }


def _world(folder: Path, document: dict[str, Any], mode: str = "fake") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "world.json").write_text(json.dumps(document), encoding="utf-8")
    config = folder / "partnerlink.toml"
    config.write_text(config_text("world.json", mode=mode))
    return config


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> io.StringIO:
    """The commands' consoles as on a colour terminal, writing here."""
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, color_system="truecolor", width=200)
    monkeypatch.setattr(cli_root, "out", console)
    monkeypatch.setattr(cli_root, "err", console)
    return screen


def run(config: Path, *args: str) -> str:
    """One command in this process; what it wrote to stdout (JSON, CSV, Markdown)."""
    with kept_logging():
        result = CliRunner().invoke(cli.app, ["--config", str(config), *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert result.exit_code == 0, (args, result.output[-2000:])
    return result.stdout


# ------------------------------------------------------------------------------- where it enters


def test_names_are_cleaned_where_they_enter_and_no_finding_is_lost(
    estate: Estate, tmp_path: Path
) -> None:
    config = _world(tmp_path, world(benign()))
    with sync_and_audit(config, Clock()) as agent:
        expected = _keys(agent.store.findings())
    assert _keys(estate.findings) == expected, "the same findings as with harmless names"
    assert {f.customer_name for f in estate.findings} == set(CLEANED.values())
    for record in _records(estate.config).values():
        for field in ("name", "domain", "display_name", "customer_name", "offer_name"):
            value = getattr(record, field, None)
            if value is not None:
                inert.plain(value, f"{record.KIND}.{field}")
                assert "\n" not in value and len(value) <= NAME_LIMIT


def test_the_real_connectors_clean_names_as_the_fake_ones_do(
    estate: Estate, tmp_path: Path
) -> None:
    """The emulator serves the names raw over HTTPS; the connectors' field readers clean them."""
    config = _world(tmp_path, world(), mode="emulator")
    with sync_and_audit(config, Clock()) as agent:
        assert _keys(agent.store.findings()) == _keys(estate.findings)
    assert _records(config) == _records(estate.config)


# ------------------------------------------------------------------------------- the terminal


def test_findings_matrix_and_status_tables_show_names_literally(
    estate: Estate, terminal: io.StringIO
) -> None:
    for command in (["findings"], ["findings", "--all"], ["matrix"], ["matrix", "--gaps"]):
        run(estate.config, *command)
    run(estate.config, "status")
    shown = terminal.getvalue()
    inert.terminal(shown, "tables")
    for finding in estate.findings:
        assert finding.fingerprint[:12] in shown, f"{finding.title[:60]!r} is not listed"


@pytest.mark.parametrize("on_terminal", [True, False], ids=["terminal", "file"])
def test_large_tables_show_names_literally(
    estate: Estate, monkeypatch: pytest.MonkeyPatch, on_terminal: bool
) -> None:
    """Past ``LARGE_TABLE`` rows the credit view prints its summary, and with ``--all`` aligned
    lines (styled on a terminal, plain to a file); findings and the matrix collapse and page
    instead: the names stay as inert in each."""
    monkeypatch.setattr(credit_cmds, "LARGE_TABLE", 0)
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=on_terminal, color_system="truecolor", width=200)
    monkeypatch.setattr(cli_root, "out", console)
    monkeypatch.setattr(cli_root, "err", console)
    for command in (["findings", "--all"], ["matrix"], ["credit", "--all"], ["credit"]):
        run(estate.config, *command)
    shown = screen.getvalue()
    inert.terminal(shown, "large tables")
    assert "association matrix" in shown and "credit view (" in shown
    assert "customers that lose the most" in shown
    for finding in estate.findings:
        assert finding.fingerprint[:12] in shown, f"{finding.title[:60]!r} is not listed"


def test_explain_shows_every_finding_with_its_names_literally(
    estate: Estate, terminal: io.StringIO
) -> None:
    for finding in estate.findings:
        run(estate.config, "explain", finding.fingerprint[:12])
        shown = terminal.getvalue()
        inert.terminal(shown, f"explain {finding.title[:40]!r}")
        assert (finding.customer_tenant_id or "") in shown
        for piece in LITERAL:
            if piece in (finding.customer_name or ""):
                assert piece in shown, f"{piece!r} not shown as written"
        terminal.seek(0)
        terminal.truncate()


def test_ack_and_a_bad_finding_id_print_names_and_input_literally(
    estate: Estate, terminal: io.StringIO
) -> None:
    target = next(f for f in estate.findings if "[/]" in (f.customer_name or ""))
    run(estate.config, "ack", target.fingerprint[:12], "--owner", "[bold]ops[/]")
    run(estate.config, "unsnooze", target.fingerprint[:12])
    with kept_logging():
        result = CliRunner().invoke(cli.app, ["--config", str(estate.config), "explain", "[/]x"])
    assert result.exit_code == 2, result.exception
    shown = terminal.getvalue()
    inert.terminal(shown, "ack")
    assert "[/]" in shown and "no finding with id [/]x" in shown


def test_demo_table_shows_names_and_holders_literally(estate: Estate) -> None:
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, color_system="truecolor", width=200)
    with Agent(load_settings(estate.config)) as agent:
        summary(agent, console)
    inert.terminal(screen.getvalue(), "demo")
    assert "[bold red]Fabrikam[/]" in screen.getvalue()


def test_readiness_shows_names_literally_and_escapes_them_in_json(
    tmp_path: Path, terminal: io.StringIO
) -> None:
    """The readiness check, through the emulator: a customer line with a cause and a hostile
    name on the terminal, every name escaped in the JSON."""
    document = world()
    document["customers"][0]["consented"] = False
    config = _world(tmp_path, document, mode="emulator")
    with kept_logging():
        table = CliRunner().invoke(cli.app, ["--config", str(config), "readiness"])
        as_json = CliRunner().invoke(
            cli.app, ["--config", str(config), "readiness", "--format", "json"]
        )
    assert (table.exit_code, as_json.exit_code) == (3, 3), table.output[-2000:]
    shown = terminal.getvalue()
    inert.terminal(shown, "readiness")
    assert HOSTILE["markup_close"] in shown and "consent missing" in shown
    assert as_json.stdout.isascii(), "JSON is written with every non-ASCII character escaped"
    names = {c["name"] for c in json.loads(as_json.stdout)["customers"]}
    assert names == set(CLEANED.values())


# ------------------------------------------------------------------------------- CSV and JSON


def test_every_csv_export_neutralises_formulas(estate: Estate) -> None:
    exports = {
        "findings": run(estate.config, "findings", "--format", "csv"),
        "matrix": run(estate.config, "matrix", "--format", "csv"),
        "report": run(estate.config, "report", "--format", "csv"),
    }
    for name, text in exports.items():
        rows = inert.csv_cells(text, f"{name} CSV")
        names = {row["customer_name"] for row in rows}
        assert "'" + CLEANED["formula"] in names, f"{name}: the formula name is kept, quoted"
        assert "'" + CLEANED["tab"] in names and "'-2 Holdings" in names
    findings = list(inert.csv_cells(exports["findings"], "findings"))
    assert {row["fingerprint"] for row in findings} == {f.fingerprint for f in estate.findings}


def test_json_exports_carry_every_name_escaped(estate: Estate) -> None:
    for args in (["findings", "--format", "json"], ["matrix", "--format", "json"]):
        text = run(estate.config, *args)
        assert text.isascii(), "JSON is written with every non-ASCII character escaped"
        names = {row["customer_name"] for row in json.loads(text)}
        assert names == set(CLEANED.values())
    report = json.loads(run(estate.config, "report", "--format", "json"))
    assert len(report["findings"]) == len(estate.findings)


# ------------------------------------------------------------------------------- HTML, Markdown


def test_html_report_has_no_live_tag(estate: Estate, tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    run(estate.config, "report", "--html", str(page))
    text = page.read_text(encoding="utf-8")
    [data] = inert.html_page(text, "report", scripts=(report_html.script(),))
    shown = json.dumps(data, ensure_ascii=False)
    for finding in estate.findings:
        assert finding.fingerprint[:12] in shown
    assert "&lt;script&gt;" in text, "the partner's name in the page's heading, escaped"
    assert "[bold red]Fabrikam[/]" in shown
    names = {row[0] for row in data["customers"]["rows"]}
    assert set(CLEANED.values()) <= names, "every hostile name is there, as data"


SESSION_KEY = "k" * 40


@pytest.fixture
def daemon_pages(estate: Estate) -> Iterator[dict[str, str]]:
    """The daemon's ``/`` (the report of the last cycle) as anyone and as a signed-in
    operator whose name from Entra is hostile too, the findings list and each finding's page
    with its action forms, over real HTTP."""
    config = estate.config.with_name("daemon.toml")
    config.write_text(
        estate.config.read_text(encoding="utf-8")
        + '[schedule]\ninterval = "24h"\ncatch_up = false\n[http]\nport = 0\nreport_anonymous = true\n'
        + 'public_url = "https://partnerlink.test"\n[http.sign_in]\n'
        + 'client_id = "a9900000-0000-4000-8000-0000000000a1"\nclient_secret = "s3cret-x"\n'
        + f'operators = ["ops@partner.example"]\nsession_key = "{SESSION_KEY}"\n',
        encoding="utf-8",
    )
    roles = Roles.of(["ops@partner.example"], [])
    sessions = Sessions(Signer(SESSION_KEY.encode()), timedelta(hours=1), roles.digest())
    who = Identity(HOSTILE["html_script"], "ops@partner.example", "0a")
    with Agent(load_settings(config)) as agent:
        daemon = Daemon(agent)
        daemon.start()
        try:
            daemon.render_page()
            assert daemon.server is not None
            url = f"http://127.0.0.1:{daemon.server.port}"
            _, sealed = sessions.seal(who, Role.OPERATOR, agent.clock())
            signed = {"Cookie": f"__Host-partnerlink={sealed}"}
            pages = {
                "report": httpx.get(url + "/", timeout=10).text,
                "report signed in": httpx.get(url + "/", headers=signed, timeout=10).text,
                "findings": httpx.get(url + "/findings", headers=signed, timeout=10).text,
            }
            for finding in estate.findings:
                path = f"/findings/{finding.fingerprint}"
                pages[path] = httpx.get(url + path, headers=signed, timeout=10).text
            yield pages
        finally:
            daemon.stop()


def test_the_daemons_pages_have_no_live_tag(estate: Estate, daemon_pages: dict[str, str]) -> None:
    by_path = {f"/findings/{f.fingerprint}": f for f in estate.findings}
    for name, page in daemon_pages.items():
        if name.startswith("report"):
            [data] = inert.html_page(
                page,
                f"daemon {name}",
                inert.APP_TAGS if "signed" in name else inert.REPORT_TAGS,
                scripts=(report_html.script(),),
                own_links="signed" in name,
            )
            rows = {row[0] for row in data["customers"]["rows"]}
            assert '<img src=x onerror="alert(1)">' in rows, name
            assert "\\u003cimg src=x onerror=" in page, name
            continue
        inert.app_page(page, f"daemon {name}")
        if name in by_path:  # one finding: its own customer's name, shown literally
            assert for_html(by_path[name].customer_name or "-") in page, name
        else:
            assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in page, name
    assert PARTNER_NAME.split("<")[0].strip() in daemon_pages["report"]
    assert "&lt;script&gt;" in daemon_pages["report signed in"].split("<main")[0]
    acts = [p for n, p in daemon_pages.items() if n.startswith("/findings/") and "acknowledge" in p]
    assert acts, "the operator's forms were checked too"


def test_evidence_packs_render_no_link_image_or_tag(estate: Estate, tmp_path: Path) -> None:
    with Agent(load_settings(estate.config)) as agent:
        packs = {t: evidence_pack(agent.store, t, now=agent.clock()) for t in _tenants()}
    for tenant_id, pack in packs.items():
        rendered = inert.markdown(pack, f"evidence {tenant_id}")
        assert rendered.count("<tr>") > 3, "links and history are all there"
    out = tmp_path / "pack.md"
    run(
        estate.config,
        "report",
        "--evidence",
        tenant(list(HOSTILE).index("md_link") + 1),
        "--out",
        str(out),
    )
    assert "[click](http" in inert.markdown(out.read_text(encoding="utf-8"), "evidence --out")


def _tenants() -> list[str]:
    return [tenant(i) for i in range(1, len(HOSTILE) + 1)]


# ------------------------------------------------------------------------------- logs


@pytest.fixture
def log_stream() -> Iterator[io.StringIO]:
    """A buffer for the project's logging; the previous set-up is put back afterwards."""
    with kept_logging():
        yield io.StringIO()


@pytest.mark.parametrize("fmt", ["console", "json"])
def test_logs_keep_each_hostile_value_on_one_inert_line(fmt: str, log_stream: io.StringIO) -> None:
    plog.configure("info", fmt, stream=log_stream)
    log = structlog.get_logger("test")
    for key, name in HOSTILE.items():
        log.info("customer_seen", customer=name, key=key)
    lines = log_stream.getvalue().splitlines()
    assert len(lines) == len(HOSTILE), "one line per event: no CR or LF got through"
    for line in lines:
        inert.terminal(line, f"{fmt} log")
        if fmt == "json":
            assert json.loads(line)["event"] == "customer_seen"
