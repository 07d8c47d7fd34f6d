"""Every command's output at 100 and at 80 columns: no line overflows, no word is split
(``tests/cli/widths.py``), on the demo world kept by an in-process demo run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agent import cli
from agent.cli import root as cli_root
from agent.demo import run_demo
from tests.cli.widths import Printed, Recorder, check
from tests.logs import kept_logging

WIDTHS = (100, 80)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Printed]]:
    folder = tmp_path_factory.mktemp("widths") / "kept"
    console = Recorder()
    with kept_logging():
        assert run_demo(folder, console) == 0
    return folder / "partnerlink.toml", console.printed


def command(config: Path | None, *args: str, code: int = 0) -> list[Printed]:
    """One command in this process; what it printed on its consoles."""
    console = Recorder()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cli_root, "out", console)
        patch.setattr(cli_root, "err", console)
        with kept_logging():
            prefix = ["--config", str(config)] if config else []
            result = CliRunner().invoke(cli.app, [*prefix, *args])
    assert result.exit_code == code, (args, result.output[-2000:], result.exception)
    return console.printed


@pytest.mark.parametrize("width", WIDTHS)
def test_the_demo_reads_at_100_and_80_columns(demo: tuple[Path, list[Printed]], width: int) -> None:
    check(demo[1], width, "demo")


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize(
    "args",
    [
        ("findings",),
        ("findings", "--all"),
        ("matrix",),
        ("matrix", "--gaps"),
        ("status",),
        ("credit",),
        ("credit", "--summary"),
        ("check",),
        ("audit",),
    ],
    ids=" ".join,
)
def test_each_command_reads_at_100_and_80_columns(
    demo: tuple[Path, list[Printed]], args: tuple[str, ...], width: int
) -> None:
    check(command(demo[0], *args), width, " ".join(args))


@pytest.mark.parametrize("width", WIDTHS)
def test_explain_reads_at_100_and_80_columns(demo: tuple[Path, list[Printed]], width: int) -> None:
    for rule in ("link_disappeared", "recognition_held_by_other", "cannot_verify"):
        fingerprint = _finding(demo[0], rule)
        check(command(demo[0], "explain", fingerprint[:12]), width, f"explain {rule}")


@pytest.mark.parametrize("width", WIDTHS)
def test_a_sync_summary_with_failures_reads_at_100_and_80_columns(
    demo: tuple[Path, list[Printed]], width: int
) -> None:
    printed = command(demo[0], "cycle", code=3)  # the demo world has unreadable tenants
    text = check(printed, width, "cycle")
    assert "cannot verify" in text and "Fjord Analytics" in text, "names, not tenant IDs"


@pytest.mark.parametrize("width", WIDTHS)
def test_init_keeps_its_bracketed_words(tmp_path: Path, width: int) -> None:
    text = check(command(None, "init", str(tmp_path / f"p{width}.toml")), width, "init")
    assert "fill in [partner] and [credentials]" in " ".join(text.split())


def test_findings_collapse_repeats_and_say_what_to_do(demo: tuple[Path, list[Printed]]) -> None:
    rows = json.loads(_json(demo[0], "findings"))
    text = _text(command(demo[0], "findings"))
    repeated = {
        (r["rule"], r["customer_tenant_id"], r["status"])
        for r in rows
        if sum(
            (o["rule"], o["customer_tenant_id"], o["status"])
            == (r["rule"], r["customer_tenant_id"], r["status"])
            for o in rows
        )
        > 1
    }
    assert repeated, "the demo has a rule firing twice for one customer"
    assert "×2" in text
    assert text.count("what to do:") == len(
        {(r["rule"], r["customer_tenant_id"], r["status"]) for r in rows}
    )
    assert "Link disappeared" in text and "link_disappeared" not in text, "rule titles"
    assert "c0000000-0000-4000-8000" not in text, "no tenant GUID in the table"
    assert "50000008-0000-4000-8000" not in text and "harbor-pos" in text, "subscription names"
    wide = _text(command(demo[0], "findings", "--wide"))
    assert "×2" not in wide and "c0000000-0000-4000-8000-000000000008" in wide


def _text(printed: list[Printed]) -> str:
    from tests.cli.widths import render

    return " ".join(render(printed, 400).split())


def _json(config: Path, *args: str) -> str:
    with kept_logging():
        result = CliRunner().invoke(cli.app, ["--config", str(config), *args, "--format", "json"])
    assert result.exit_code == 0, result.output
    return result.stdout


def _finding(config: Path, rule: str) -> str:
    rows = json.loads(_json(config, "findings"))
    return str(next(r["fingerprint"] for r in rows if r["rule"] == rule))
