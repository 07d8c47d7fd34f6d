"""`partnerlink readiness` as a script uses it: JSON on stdout, and an exit code that says
whether the readable share of the estate holds the configured floor."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.test_cli import partnerlink
from tests.readiness.estate import C2, C4, SUB4_NO_ROLE, estate, write_estate


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("estate")
    config = write_estate(folder)
    done = partnerlink("--config", str(config), "sync")
    assert done.returncode == 3, done.stderr  # partial: the estate has its blind spots
    return folder


def _readiness(folder: Path, *args: str, **readiness: object) -> tuple[int, str]:
    config = write_estate(folder, **readiness)
    done = partnerlink("--config", str(config), "readiness", *args)
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, done.stdout


def test_json_lists_every_customer_with_its_checks_and_the_coverage(synced: Path) -> None:
    code, out = _readiness(synced, "--format", "json")
    found = json.loads(out)
    assert code == 3
    assert found["coverage"]["customers"] == {"readable": 1, "total": 5, "percent": 20.0}
    assert found["floor_percent"] == 100.0
    assert found["ok"] is False
    birch = next(c for c in found["customers"] if c["tenant_id"] == C2)
    graph = next(c for c in birch["checks"] if c["reader"] == "graph")
    assert graph["state"] == "blocked"
    assert graph["cause"] == "consent_missing"
    assert graph["code"] == "AADSTS7000229"
    assert graph["why"] and graph["fix"]
    dune = next(c for c in found["customers"] if c["tenant_id"] == C4)
    arm = next(c for c in dune["checks"] if c["reader"] == "arm")
    assert arm["subjects"] == [SUB4_NO_ROLE]
    assert {c["reader"] for c in found["partner"]} >= {"partner_center", "graph (partner tenant)"}


def test_the_exit_code_holds_the_readable_share_to_the_configured_floor(synced: Path) -> None:
    code, out = _readiness(synced, floor=20.0)
    assert code == 0, out
    assert "at or above the floor of 20 %" in out
    code, out = _readiness(synced, "--format", "json", floor=25.0)
    assert code == 3
    assert json.loads(out)["below_floor"] == ["customers", "seats"]


def test_check_online_prints_the_same_readiness_and_exits_the_same_way(synced: Path) -> None:
    config = write_estate(synced, floor=25.0)
    done = partnerlink("--config", str(config), "check", "--online")
    assert done.returncode == 3, done.stderr
    assert "customers not fully readable: 4 of 5" in done.stdout
    assert "below the floor of 25 %: customers, seats" in done.stdout


def test_an_estate_that_cannot_even_be_listed_exits_4(tmp_path: Path) -> None:
    world = estate()
    world["faults"] = [{"source": "partner_center.customers", "status": 403}]
    config = write_estate(tmp_path, world)
    done = partnerlink("--config", str(config), "readiness")
    assert done.returncode == 4, done.stdout + done.stderr
    assert "the customers could not be listed" in done.stdout
    assert "App management" in done.stdout


def test_a_format_other_than_table_or_json_is_refused(tmp_path: Path) -> None:
    config = write_estate(tmp_path)
    done = partnerlink("--config", str(config), "readiness", "--format", "csv")
    assert done.returncode == 2
    assert "--format: expected table or json" in done.stderr
