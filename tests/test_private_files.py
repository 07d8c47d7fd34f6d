"""Every file the agent writes that holds customer data is 0600 from its creation, whatever the
umask, and an existing 0644 file it overwrites ends up 0600 too."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.auth import RefreshTokenStore
from agent.files import write_private


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def public_file(path: Path, text: str = "old, readable by all\n") -> Path:
    path.write_text(text, encoding="utf-8")
    path.chmod(0o644)
    assert mode(path) == 0o644
    return path


@pytest.fixture
def umask_022() -> Iterator[None]:
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


def partnerlink(*args: str) -> subprocess.CompletedProcess[str]:
    """The command line, as a user with the common umask 022 runs it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARTNERLINK_")}
    return subprocess.run(
        [sys.executable, "-m", "agent", *args],
        capture_output=True,
        text=True,
        env={**env, "COLUMNS": "200"},
        umask=0o022,
        timeout=300,
        check=False,
    )


# --- the helper --------------------------------------------------------------------------------


@pytest.mark.usefixtures("umask_022")
def test_write_private_creates_a_0600_file_under_umask_022(tmp_path: Path) -> None:
    target = tmp_path / "report.html"
    write_private(target, "<p>Alpine Dairy</p>")
    assert mode(target) == 0o600
    assert target.read_text(encoding="utf-8") == "<p>Alpine Dairy</p>"
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]


@pytest.mark.usefixtures("umask_022")
def test_write_private_turns_an_overwritten_0644_file_into_0600(tmp_path: Path) -> None:
    target = public_file(tmp_path / "export.csv")
    write_private(target, b"customer\nAlpine Dairy\n")
    assert mode(target) == 0o600
    assert target.read_bytes() == b"customer\nAlpine Dairy\n"
    assert [p.name for p in tmp_path.iterdir()] == ["export.csv"]


@pytest.mark.parametrize("umask", [0o000, 0o077, 0o277])
def test_write_private_is_0600_whatever_the_umask(tmp_path: Path, umask: int) -> None:
    previous = os.umask(umask)
    try:
        write_private(tmp_path / "pack.md", "evidence")
    finally:
        os.umask(previous)
    assert mode(tmp_path / "pack.md") == 0o600


def test_write_private_into_a_missing_folder_names_the_target_and_leaves_nothing(
    tmp_path: Path,
) -> None:
    target = tmp_path / "absent" / "report.html"
    with pytest.raises(FileNotFoundError) as caught:
        write_private(target, "x")
    assert caught.value.filename == str(target)
    assert list(tmp_path.iterdir()) == []


def test_write_private_writes_through_a_device_without_changing_its_mode() -> None:
    devnull = Path(os.devnull)
    before = mode(devnull)
    write_private(devnull, "discarded")
    assert mode(devnull) == before
    assert stat.S_ISCHR(devnull.stat().st_mode)  # still the device, not a file put in its place


@pytest.mark.usefixtures("umask_022")
def test_the_refresh_token_store_replaces_a_0644_file_with_a_0600_one(tmp_path: Path) -> None:
    path = public_file(tmp_path / "refresh-token.json", "{}")
    RefreshTokenStore(path).save("rt-0001")
    assert mode(path) == 0o600
    assert json.loads(path.read_text(encoding="utf-8"))["refresh_token"] == "rt-0001"


# --- the command line ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def kept(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("private") / "demo"
    result = partnerlink("demo", "--keep", str(folder))
    assert result.returncode == 0, result.stderr
    return folder


def test_demo_keep_writes_every_file_0600(kept: Path) -> None:
    files = {p.name: mode(p) for p in kept.iterdir() if p.is_file()}
    assert {"partnerlink.toml", "world.json", "managed-customers.csv", "partnerlink.db"} <= set(
        files
    )
    assert {name for name, m in files.items() if m != 0o600} == set()


@pytest.mark.parametrize("existing", [False, True], ids=["new", "over-0644"])
def test_report_html_is_written_0600(kept: Path, tmp_path: Path, existing: bool) -> None:
    page = tmp_path / "report.html"
    if existing:
        public_file(page)
    result = partnerlink("--config", str(kept / "partnerlink.toml"), "report", "--html", str(page))
    assert result.returncode == 0, result.stderr
    assert mode(page) == 0o600
    assert "Alpine Dairy" in page.read_text(encoding="utf-8")


def test_report_evidence_out_over_a_0644_file_is_0600(kept: Path, tmp_path: Path) -> None:
    pack = public_file(tmp_path / "evidence.md")
    customer = json.loads((kept / "world.json").read_text(encoding="utf-8"))["customers"][0]
    result = partnerlink(
        "--config",
        str(kept / "partnerlink.toml"),
        "report",
        "--evidence",
        customer["tenant_id"],
        "--out",
        str(pack),
    )
    assert result.returncode == 0, result.stderr
    assert mode(pack) == 0o600
    assert customer["tenant_id"] in pack.read_text(encoding="utf-8")


def test_init_force_over_a_0644_file_is_0600(tmp_path: Path) -> None:
    config = public_file(tmp_path / "partnerlink.toml")
    result = partnerlink("init", str(config), "--force")
    assert result.returncode == 0, result.stderr
    assert mode(config) == 0o600
    assert "[partner]" in config.read_text(encoding="utf-8")


def test_report_into_a_missing_folder_is_one_line_and_exit_2(kept: Path, tmp_path: Path) -> None:
    page = tmp_path / "absent" / "report.html"
    result = partnerlink("--config", str(kept / "partnerlink.toml"), "report", "--html", str(page))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [f"error: cannot write {page}: {os.strerror(2)}"]
    assert "Traceback" not in result.stdout + result.stderr
