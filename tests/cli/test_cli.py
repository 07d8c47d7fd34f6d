"""The command line as a person uses it: the demo, findings for scripts, check, exit codes."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REQUIRED_FIELDS = {"fingerprint", "rule", "severity", "status", "first_seen", "last_seen"}


def partnerlink(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("PARTNERLINK_")}
    full_env.update({"COLUMNS": "200", **(env or {})})
    return subprocess.run(
        [sys.executable, "-m", "agent", *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd,
        timeout=300,
        check=False,
    )


@pytest.fixture(scope="module")
def kept_demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("demo") / "kept"
    result = partnerlink("demo", "--keep", str(folder))
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stdout + result.stderr
    return folder


def test_demo_shows_missing_held_by_other_and_disappeared(kept_demo: Path) -> None:
    result = partnerlink(
        "--config", str(kept_demo / "partnerlink.toml"), "findings", "--format", "json"
    )
    assert result.returncode == 0, result.stderr
    rules = {f["rule"] for f in json.loads(result.stdout)}
    assert {
        "link_missing",
        "link_held_by_other",
        "link_disappeared",
        "wrong_partner_id",
        "gdap_expiring",
        "gdap_ended",
        "pal_carrier_at_risk",
        "cannot_verify",
        "recognition_held_by_other",
    } <= rules


def test_findings_json_is_a_list_of_finding_objects(kept_demo: Path) -> None:
    result = partnerlink(
        "--config", str(kept_demo / "partnerlink.toml"), "findings", "--format", "json"
    )
    rows = json.loads(result.stdout)
    assert isinstance(rows, list)
    assert rows
    for row in rows:
        assert set(row) >= REQUIRED_FIELDS
        assert row["status"] in ("open", "pending", "acknowledged", "snoozed", "suspect")
        assert row["first_seen"].endswith("+00:00")
    severities = [row["severity"] for row in rows]
    order = ["critical", "high", "medium", "low", "info"]
    assert severities == sorted(severities, key=order.index), "most severe first"


def test_findings_csv_has_a_header_and_one_row_per_finding(kept_demo: Path) -> None:
    as_json = json.loads(
        partnerlink(
            "--config", str(kept_demo / "partnerlink.toml"), "findings", "--format", "json"
        ).stdout
    )
    result = partnerlink(
        "--config", str(kept_demo / "partnerlink.toml"), "findings", "--format", "csv"
    )
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) == len(as_json)
    assert set(rows[0]) >= REQUIRED_FIELDS


def test_findings_filters_by_rule(kept_demo: Path) -> None:
    result = partnerlink(
        "--config",
        str(kept_demo / "partnerlink.toml"),
        "findings",
        "--format",
        "json",
        "--rule",
        "gdap_expiring",
    )
    rows = json.loads(result.stdout)
    assert rows
    assert {r["rule"] for r in rows} == {"gdap_expiring"}


def test_kept_demo_config_serves_every_other_command(kept_demo: Path) -> None:
    config = str(kept_demo / "partnerlink.toml")
    for command in (["check"], ["status"], ["audit"], ["cycle"]):
        result = partnerlink("--config", config, *command)
        assert result.returncode in (0, 3), (command, result.stderr)
    env_result = partnerlink("status", env={"PARTNERLINK_CONFIG": config})
    assert env_result.returncode == 0, env_result.stderr


def test_check_prints_settings_with_secrets_redacted(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text(
        '[credentials]\nclient_id = "5f3c9a1e-2b7d-4c8e-9a6f-0d1e2f3a4b5c"\n'
        'client_secret = "s3cret-value-never-shown"\n'
        '[store]\nurl = "postgresql://agent:db-password-xyz@db.invalid/pl"\n'
    )
    result = partnerlink("--config", str(config), "check")
    assert result.returncode == 0, result.stderr
    assert "s3cret-value-never-shown" not in result.stdout + result.stderr
    assert "db-password-xyz" not in result.stdout + result.stderr
    assert "**********" in result.stdout


def test_broken_config_is_one_clear_line_and_exit_2(tmp_path: Path) -> None:
    config = tmp_path / "broken.toml"
    config.write_text('[partner]\ntenant_id = "not-a-guid"\n')
    result = partnerlink("--config", str(config), "check")
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "broken.toml" in lines[0]
    assert "partner.tenant_id" in lines[0]
    assert "GUID" in lines[0]
    assert "Traceback" not in result.stderr


def test_missing_config_file_exits_2(tmp_path: Path) -> None:
    result = partnerlink("--config", str(tmp_path / "nope.toml"), "sync")
    assert result.returncode == 2
    assert "no such config file" in result.stderr


def test_init_writes_a_config_that_check_accepts_once_its_placeholders_are_replaced(
    tmp_path: Path,
) -> None:
    target = tmp_path / "partnerlink.toml"
    assert partnerlink("init", str(target)).returncode == 0
    assert target.stat().st_mode & 0o777 == 0o600
    assert partnerlink("init", str(target)).returncode == 2, "never overwrites silently"

    refused = partnerlink("--config", str(target), "check")

    assert refused.returncode == 2
    assert refused.stderr.strip() == (
        f"error: {target}: partner.tenant_id: replace the placeholder "
        "'00000000-0000-0000-0000-000000000000' with the partner's Entra tenant ID"
    )
    text = target.read_text()
    for placeholder, real in {
        "00000000-0000-0000-0000-000000000000": "7c3f5e2a-9d41-4b8e-a6f0-3e2d1c0b9a87",
        "11111111-1111-1111-1111-111111111111": "5f3c9a1e-2b7d-4c8e-9a6f-0d1e2f3a4b5c",
        "1234567": "4711001",
        "2345678": "4711002",
    }.items():
        text = text.replace(f'"{placeholder}"', f'"{real}"')
    target.write_text(text)
    assert partnerlink("--config", str(target), "check").returncode == 0


def test_audit_before_any_sync_exits_4(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_text(f'[store]\ndata_dir = "{tmp_path}"\n')
    result = partnerlink("--config", str(config), "audit")
    assert result.returncode == 4
    assert "no finished sync run" in result.stderr


def test_matrix_shows_holders_states_and_stakes_with_gap_filter(kept_demo: Path) -> None:
    config = str(kept_demo / "partnerlink.toml")
    rows = json.loads(partnerlink("--config", config, "matrix", "--format", "json").stdout)
    states = {r["state"] for r in rows}
    assert {"present", "gone", "missing", "held_by_other", "wrong_id"} <= states
    harbor = [r for r in rows if r["customer_name"] == "Harbor Retail Group"]
    assert any(r["kind"] == "dpor" and r["holder"] == "5200001" for r in harbor)
    assert any(r["stake"].get("acr_usd") for r in harbor)
    gdap = [r for r in rows if r["kind"] == "gdap" and r["state"] == "present"]
    assert gdap and all(r["since_from"] == "microsoft" for r in gdap), "the activation date"
    assert all(r["since"][:10] < r["last_seen"][:10] for r in gdap), "not when the agent saw it"
    assert any(r["since_from"] == "first seen" for r in rows), "where Microsoft gives no date"
    gaps = json.loads(
        partnerlink("--config", config, "matrix", "--gaps", "--format", "json").stdout
    )
    assert gaps and all(r["gap"] for r in gaps) and len(gaps) < len(rows)
    azure = json.loads(
        partnerlink("--config", config, "matrix", "--workload", "azure", "--format", "json").stdout
    )
    assert azure and all(r["workload"].startswith("azure") for r in azure)


def test_lifecycle_commands_on_the_kept_demo(kept_demo: Path) -> None:
    config = str(kept_demo / "partnerlink.toml")
    rows = json.loads(partnerlink("--config", config, "findings", "--format", "json").stdout)
    target = next(r for r in rows if r["rule"] == "link_disappeared" and r["status"] == "open")
    short = target["fingerprint"][:10]
    explained = partnerlink("--config", config, "explain", short)
    assert explained.returncode == 0 and "observations behind it" in explained.stdout
    assert partnerlink("--config", config, "ack", short, "--owner", "ops").returncode == 0
    assert partnerlink("--config", config, "snooze", short, "--until", "7d").returncode == 0
    after = {
        r["fingerprint"]: r
        for r in json.loads(partnerlink("--config", config, "findings", "--format", "json").stdout)
    }
    assert after[target["fingerprint"]]["status"] == "snoozed"
    assert partnerlink("--config", config, "unsnooze", short).returncode == 0
    assert partnerlink("--config", config, "snooze", short, "--until", "soon").returncode == 2
    html = kept_demo / "report.html"
    assert partnerlink("--config", config, "report", "--html", str(html)).returncode == 0
    assert "<svg" in html.read_text()


def test_assign_dismiss_and_reopen_are_recorded_with_who_and_why(kept_demo: Path) -> None:
    config = str(kept_demo / "partnerlink.toml")
    rows = json.loads(partnerlink("--config", config, "findings", "--format", "json").stdout)
    target = next(r for r in rows if r["rule"] == "link_held_by_other" and r["status"] == "open")
    short = target["fingerprint"][:10]
    refused = partnerlink("--config", config, "dismiss", short, "--reason", "  ", "--by", "ana")
    assert refused.returncode == 2 and "reason is missing" in refused.stderr
    assigned = partnerlink("--config", config, "assign", short, "Bo Ops", "--by", "ana")
    assert assigned.returncode == 0 and "is now open" in assigned.stdout
    why = "the customer chose that partner for Azure"
    dismissed = partnerlink("--config", config, "dismiss", short, "--reason", why, "--by", "ana")
    assert dismissed.returncode == 0 and "is now dismissed" in dismissed.stdout
    explained = partnerlink("--config", config, "explain", short).stdout
    assert "open → open  (assign by ana: owner Bo Ops)" in explained
    assert f"open → dismissed  (dismiss by ana: {why})" in explained
    assert "owner: Bo Ops" in explained and "accepted risk" in explained
    reopened = partnerlink("--config", config, "unsnooze", short)
    assert reopened.returncode == 0 and "is now open" in reopened.stdout
    assert (
        "dismissed → open  (reopen by " in partnerlink("--config", config, "explain", short).stdout
    )


def test_sync_uses_the_change_feed_and_full_reads_everything(kept_demo: Path) -> None:
    """Through the emulator: a sync soon after the demo's stands on its Partner Center
    subscription reads where the audit records name no change; ``--full`` reads them all."""
    config = str(kept_demo / "partnerlink.toml")
    result = partnerlink("--config", config, "sync")
    assert result.returncode in (0, 3), result.stderr
    assert "unchanged per the audit records" in result.stdout
    full = partnerlink("--config", config, "sync", "--full")
    assert full.returncode in (0, 3), full.stderr
    assert "unchanged per the audit records" not in full.stdout


def test_tables_show_their_first_rows_and_say_how_to_see_every_one(kept_demo: Path) -> None:
    """``--limit``: the most important findings first, the matrix's first customers whole, and
    a line saying how many rows are left out and how to see them; JSON gives every row."""
    config = str(kept_demo / "partnerlink.toml")
    every = partnerlink("--config", config, "findings", "--limit", "0").stdout
    assert "not shown" not in every
    first = partnerlink("--config", config, "findings", "--wide", "--limit", "2").stdout
    findings = json.loads(partnerlink("--config", config, "findings", "-f", "json").stdout)
    assert f"{len(findings):,} finding(s), the first 2 of {len(findings):,} rows" in first
    assert f"{len(findings) - 2:,} more row(s) not shown: --limit 0 shows every row" in first
    top = findings[0]["fingerprint"]
    assert top in first and top[:12] in every
    assert all(f["fingerprint"] not in first for f in findings[2:])

    rows = json.loads(partnerlink("--config", config, "matrix", "--format", "json").stdout)
    table = partnerlink("--config", config, "matrix", "--wide", "--limit", "1").stdout
    first_customer = rows[0]["customer_tenant_id"]
    theirs = [r for r in rows if r["customer_tenant_id"] == first_customer]
    assert f"the first {len(theirs)} of {len(rows):,} rows" in table, "a customer is whole"
    assert all(r["customer_tenant_id"] not in table for r in rows if r not in theirs)
    assert "--limit 0 shows every row" in table
    assert partnerlink("--config", config, "matrix", "--limit", "-1").returncode == 2
