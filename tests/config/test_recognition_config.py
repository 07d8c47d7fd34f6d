"""``[recognition] rulebook_file``: a partner's rulebook override is validated with the config,
so ``check`` refuses a broken one with exit code 2 and one line naming the file and the path."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from agent.config import ConfigError, load_settings


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith("PARTNERLINK_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


BROKEN_RULE = {
    "rules": [
        {
            "id": "our-own-rule",
            "solution_areas": ["modern_work"],
            "metric": "deployments",
            "track": "all",
            "associations": [{"kind": "cpor"}],
            "workloads": ["exchange"],
            "thresholds": [],
            "evidence": [{"source": "hearsay", "quote": "trust me"}],
            "as_of": "2026-12-01",
        }
    ]
}


def setup(tmp_path: Path, override: object) -> Path:
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "fy27.json").write_text(json.dumps(override), encoding="utf-8")
    config = tmp_path / "partnerlink.toml"
    config.write_text('[recognition]\nrulebook_file = "rules/fy27.json"\n', encoding="utf-8")
    return config


def test_a_valid_override_is_accepted_and_resolved_against_the_config_folder(
    tmp_path: Path,
) -> None:
    settings = load_settings(setup(tmp_path, {"disable": ["security-deployments"]}))

    assert settings.recognition.rulebook_file == (tmp_path / "rules" / "fy27.json").resolve()


def test_a_broken_override_names_the_config_key_the_override_file_and_the_json_path(
    tmp_path: Path,
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(setup(tmp_path, BROKEN_RULE))

    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{tmp_path / 'partnerlink.toml'}: recognition.rulebook_file: ")
    assert "fy27.json: $.rules[0].evidence[0].source: 'hearsay' is not a source" in message


def test_a_missing_override_file_is_a_config_error(tmp_path: Path) -> None:
    config = tmp_path / "partnerlink.toml"
    config.write_text('[recognition]\nrulebook_file = "absent.json"\n', encoding="utf-8")

    with pytest.raises(ConfigError, match=r"recognition\.rulebook_file: .*absent\.json: no such"):
        load_settings(config)


def test_cli_check_refuses_a_broken_override_with_exit_2_and_one_line(tmp_path: Path) -> None:
    setup(tmp_path, BROKEN_RULE)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARTNERLINK_")}
    env["COLUMNS"] = "40"

    done = subprocess.run(
        [sys.executable, "-m", "agent", "--config", "partnerlink.toml", "check"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "recognition.rulebook_file" in lines[0] and "$.rules[0].evidence[0].source" in lines[0]
    assert "Traceback" not in done.stderr + done.stdout
