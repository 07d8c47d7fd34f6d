"""``[http]`` token settings: read from a file or the environment, checked at load, never shown;
a token that cannot be used is one config error naming the file and the key (exit 2)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from agent.config import ConfigError, load_settings
from tests.daemon.webworld import TOKEN


def _config(folder: Path, http: str) -> Path:
    path = folder / "partnerlink.toml"
    path.write_text("[http]\n" + http)
    return path


def _check(config: Path, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("PARTNERLINK_")}
    return subprocess.run(
        [sys.executable, "-m", "agent", "--config", str(config), "check"],
        env={**clean, "COLUMNS": "300", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_token_file_relative_to_the_config_is_read_and_stripped(tmp_path: Path) -> None:
    (tmp_path / "token").write_text(f"  {TOKEN}\n")
    settings = load_settings(_config(tmp_path, 'token_file = "token"\n'))
    assert settings.http.token is not None
    assert settings.http.token.get_secret_value() == TOKEN
    assert settings.http.token_file == tmp_path / "token"


@pytest.mark.parametrize(
    ("prepare", "expected"),
    [
        (lambda p: None, "cannot read {token}: no such file or directory"),
        (lambda p: p.mkdir(), "cannot read {token}: is a directory"),
        (lambda p: p.write_text(" \n"), "the token in {token} is empty"),
        (lambda p: p.write_bytes(b"\xff\xfe" * 20), "cannot read {token}: not utf-8 text"),
        (lambda p: p.write_text("two words" * 3), "too short or holds spaces"),
    ],
    ids=["missing", "directory", "blank", "binary", "spaces"],
)
def test_an_unusable_token_file_is_one_line_naming_the_file_and_the_key(
    tmp_path: Path, prepare: object, expected: str
) -> None:
    token = tmp_path / "token"
    prepare(token)  # type: ignore[operator]
    result = _check(_config(tmp_path, f'token_file = "{token}"\n'))
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert line.startswith(f"error: {tmp_path / 'partnerlink.toml'}: http.token_file: ")
    assert expected.format(token=token) in line, line
    assert "(got" not in line, "the path is said once"
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("value", ["", "   ", "short-secret", "has a space in it here"])
def test_an_unusable_token_in_the_environment_names_the_variable_and_hides_the_value(
    tmp_path: Path, value: str
) -> None:
    result = _check(_config(tmp_path, ""), PARTNERLINK_HTTP__TOKEN=value)
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert line.startswith("error: environment PARTNERLINK_HTTP__TOKEN: http.token: the token ")
    if value.strip():
        assert value not in line


def test_the_token_is_never_printed_by_check(tmp_path: Path) -> None:
    result = _check(_config(tmp_path, ""), PARTNERLINK_HTTP__TOKEN=TOKEN)
    assert result.returncode == 0, result.stderr
    assert '"token": "**********"' in result.stdout
    assert TOKEN not in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("http", "expected"),
    [
        (f'token = "{TOKEN}"\ntoken_file = "token"\n', "not both"),
        (f'token = "{TOKEN}"\nreport_anonymous = true\n', "choose one"),
    ],
)
def test_contradictory_ways_in_are_refused(tmp_path: Path, http: str, expected: str) -> None:
    (tmp_path / "token").write_text(TOKEN)
    with pytest.raises(ConfigError, match=expected) as caught:
        load_settings(_config(tmp_path, http))
    assert TOKEN not in str(caught.value)
