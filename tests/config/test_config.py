"""Configuration: the documented example, environment overrides, one-line errors that name the
file and the key, secrets kept out of every output, paths relative to the config file."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel, SecretStr

from agent.config import (
    ConfigError,
    Settings,
    load_settings,
    redacted,
    source_file,
)
from agent.durations import parse_duration
from tests.config.certs import Cert

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "config.example.toml"
GUID = "5f3c9a1e-2b7d-4c8e-9a6f-0d1e2f3a4b5c"
FILLED = {
    "00000000-0000-0000-0000-000000000000": "7c3f5e2a-9d41-4b8e-a6f0-3e2d1c0b9a87",
    "11111111-1111-1111-1111-111111111111": GUID,
    "1234567": "4711001",
    "2345678": "4711002",
}
"""The starter config's placeholder IDs and what a user fills in for them."""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def filled_example(folder: Path) -> Path:
    """The documented example with its placeholder IDs replaced, as a user fills it in."""
    text = EXAMPLE.read_text(encoding="utf-8")
    for placeholder, real in FILLED.items():
        text = text.replace(f'"{placeholder}"', f'"{real}"')
    return write(folder / "partnerlink.toml", text)


def config_error(path: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    message = str(caught.value)
    assert "\n" not in message, message
    return message


# ------------------------------------------------------------------------- the example


def test_example_config_loads_once_its_placeholders_are_replaced(tmp_path: Path) -> None:
    path = filled_example(tmp_path)

    settings = load_settings(path)

    assert source_file(settings) == path
    assert settings.partner.global_partner_id == "4711001"
    assert [loc.partner_id for loc in settings.partner.locations] == ["4711002"]
    assert settings.partner_ids() == frozenset({"4711001", "4711002"})
    assert settings.credentials.client_id == GUID
    assert settings.sync.time_budget == timedelta(hours=4)
    assert settings.audit.disappeared_after_runs == 2


def test_every_documented_key_of_the_example_means_what_it_says(tmp_path: Path) -> None:
    path = filled_example(tmp_path)
    document = tomllib.loads(path.read_text(encoding="utf-8"))
    settings = load_settings(path)

    assert set(document) == set(Settings.model_fields), "every section is in the example"
    for section, body in document.items():
        model = getattr(settings, section)
        for name, written in body.items():
            loaded = getattr(model, name)
            where = f"{section}.{name}"
            if isinstance(loaded, timedelta):
                assert loaded == parse_duration(written), where
            elif isinstance(loaded, Path):
                assert loaded == (path.parent / written).resolve(), where
            elif isinstance(loaded, list) and loaded and isinstance(loaded[0], BaseModel):
                assert [item.model_dump() for item in loaded] == written, where
            else:
                assert loaded == written, where


def test_example_documents_every_key_set_or_commented_out() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    lines = [
        line.lstrip("# ").split("=", 1)[0].strip() for line in text.splitlines() if "=" in line
    ]
    tables = re.findall(r"^#?\s*\[\[?([\w.]+)\]\]?", text, flags=re.MULTILINE)
    documented = set(lines) | {table.rsplit(".", 1)[-1] for table in tables}

    def keys(model: type[BaseModel]) -> set[str]:
        out = set()
        for name, field in model.model_fields.items():
            out.add(name)
            args = getattr(field.annotation, "__args__", ())
            for arg in args:
                if isinstance(arg, type) and issubclass(arg, BaseModel):
                    out |= keys(arg)
        return out

    undocumented = {
        f"{section}.{name}"
        for section, field in Settings.model_fields.items()
        for name in keys(field.annotation)  # type: ignore[arg-type]
        if name not in documented
    }
    assert undocumented == set()


def _toml(data: dict[str, Any]) -> str:
    """A small TOML writer for what Settings holds (the standard library only reads TOML)."""

    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int | float):
            return repr(v)
        if isinstance(v, timedelta):
            return json.dumps(f"{v.total_seconds():g}s")
        if isinstance(v, SecretStr):
            return json.dumps(v.get_secret_value())
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        return json.dumps(str(v))

    lines: list[str] = []
    for section, body in data.items():
        lines.append(f"[{section}]")
        tables = {
            k: v for k, v in body.items() if isinstance(v, list) and v and isinstance(v[0], dict)
        }
        lines += [f"{k} = {value(v)}" for k, v in body.items() if v is not None and k not in tables]
        for name, items in tables.items():
            for item in items:
                lines.append(f"[[{section}.{name}]]")
                lines += [f"{k} = {value(v)}" for k, v in item.items() if v is not None]
    return "\n".join(lines) + "\n"


def test_every_section_round_trips_through_a_written_config(tmp_path: Path) -> None:
    original = load_settings(filled_example(tmp_path / "example"))

    again = load_settings(write(tmp_path / "again.toml", _toml(original.model_dump())))

    for section in Settings.model_fields:
        assert getattr(again, section) == getattr(original, section), section


def test_the_example_shipped_for_init_is_the_documented_one() -> None:
    assert (REPO / "agent" / "config.example.toml").read_text(
        encoding="utf-8"
    ) == EXAMPLE.read_text(encoding="utf-8")


# ------------------------------------------------------------------------- environment


def test_environment_overrides_the_store_url_and_keeps_the_other_store_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path / "p.toml", '[store]\nurl = "sqlite:///file.db"\ndata_dir = "d"\n')
    monkeypatch.setenv("PARTNERLINK_STORE__URL", "postgresql://agent@db/partnerlink")

    settings = load_settings(path)

    assert settings.store.url == "postgresql://agent@db/partnerlink"
    assert settings.store.data_dir == tmp_path / "d"


def test_nested_environment_override_of_an_audit_threshold(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path / "p.toml", "[audit]\ndisappeared_after_runs = 2\n")
    monkeypatch.setenv("PARTNERLINK_AUDIT__DISAPPEARED_AFTER_RUNS", "4")

    assert load_settings(path).audit.disappeared_after_runs == 4


def test_environment_secret_is_used_and_stays_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PARTNERLINK_CREDENTIALS__CLIENT_SECRET", "env-secret-value-42")

    settings = load_settings(write(tmp_path / "p.toml", ""))

    assert settings.credentials.client_secret is not None
    assert settings.credentials.client_secret.get_secret_value() == "env-secret-value-42"
    assert "env-secret-value-42" not in json.dumps(redacted(settings))
    assert "env-secret-value-42" not in repr(settings)


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("PARTNERLINK_AUDIT__DISAPPEARED_AFTER_RUNS", "zero", "valid integer"),
        ("PARTNERLINK_AUDIT__DISAPPEARED_AFTER_RUNS", "0", "greater than or equal to 1"),
        ("PARTNERLINK_PARTNER__TENANT_ID", "not-a-guid", "expected a GUID"),
        ("PARTNERLINK_SYNC__TIME_BUDGET", "soon", "expected a duration"),
    ],
)
def test_bad_environment_value_names_the_environment_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    path = write(tmp_path / "p.toml", "")
    monkeypatch.setenv(variable, value)

    message = config_error(path)

    dotted = variable.removeprefix("PARTNERLINK_").lower().replace("__", ".")
    assert message.startswith(f"environment {variable}: {dotted}: "), message
    assert expected in message


# ------------------------------------------------------------------------- broken files


@pytest.mark.parametrize(
    ("text", "key", "expected"),
    [
        ('[partner]\ncolour = "red"\n', "partner.colour", "unknown key"),
        ("[alerting]\nrepeat = 1\n", "alerting", "unknown key"),
        ('[sync]\nconcurrency = "many"\n', "sync.concurrency", "valid integer"),
        ("[sync]\nconcurrency = 0\n", "sync.concurrency", "greater than or equal to 1"),
        ('[partner]\ntenant_id = "contoso"\n', "partner.tenant_id", "expected a GUID"),
        ('[credentials]\nclient_id = "1234"\n', "credentials.client_id", "expected a GUID"),
        (
            '[partner]\nglobal_partner_id = "12ab"\n',
            "partner.global_partner_id",
            "partner ID (MPN ID) of 6 to 10 digits",
        ),
        (
            '[[partner.locations]]\npartner_id = "42"\n',
            "partner.locations[0].partner_id",
            "partner ID (MPN ID) of 6 to 10 digits",
        ),
        ('[sync]\ntime_budget = "forever"\n', "sync.time_budget", "expected a duration"),
        (
            "[sync]\nmax_body_bytes = 1000\n",
            "sync.max_body_bytes",
            "greater than or equal to 64000",
        ),
        ('[sync]\nmax_download_bytes = "big"\n', "sync.max_download_bytes", "integer"),
        ('[alerts]\nrepeat_interval = "1 week"\n', "alerts.repeat_interval", "expected a duration"),
        ('[schedule]\ntimezone = "Mars/Olympus"\n', "schedule.timezone", "IANA time zone"),
        ('[cloud]\ngraph_url = "http://graph.example"\n', "cloud.graph_url", "https://"),
        ('[sources]\nmode = "fake"\n', "sources", "needs sources.scenario"),
        (
            '[credentials]\nclient_secret = "s3cret-s3cret"\nclient_secret_file = "s.txt"\n',
            "credentials",
            "give client_secret or client_secret_file, not both",
        ),
        (
            '[[credentials.carriers]]\nname = "ops"\nclient_secret = "s3cret-s3cret"\n'
            'client_secret_file = "s.txt"\n',
            "credentials.carriers[0]",
            "give client_secret or client_secret_file, not both",
        ),
    ],
)
def test_broken_config_raises_one_line_naming_file_key_and_expectation(
    tmp_path: Path, text: str, key: str, expected: str
) -> None:
    path = write(tmp_path / "broken.toml", text)

    message = config_error(path)

    assert message.startswith(f"{path}: {key}: "), message
    assert expected in message


def test_missing_config_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.toml"

    assert config_error(path) == f"{path}: no such config file (run `partnerlink init`)"


def test_invalid_toml_names_the_file_and_the_line(tmp_path: Path) -> None:
    path = write(tmp_path / "broken.toml", '[partner]\nname = "a"\n[sync\n')

    message = config_error(path)

    assert message.startswith(f"{path}: not valid TOML: ")
    assert "line 3" in message


def test_required_config_without_any_file_says_how_to_give_one() -> None:
    with pytest.raises(ConfigError, match="pass --config FILE or set PARTNERLINK_CONFIG"):
        load_settings(None, required=True)


@pytest.mark.parametrize(
    "text",
    [
        "[credentials]\nclient_secret = 987654321\n",
        "[credentials]\ncertificate_password = 987654321\n",
        '[[credentials.carriers]]\nname = "ops"\nclient_secret = 987654321\n',
        "[store]\nurl = 987654321\n",
    ],
)
def test_error_about_a_secret_never_echoes_the_value_given(tmp_path: Path, text: str) -> None:
    message = config_error(write(tmp_path / "p.toml", text))

    assert "987654321" not in message
    assert "valid string" in message


# ------------------------------------------------------------------------- redaction


def test_redacted_settings_contain_no_secret(tmp_path: Path) -> None:
    write(tmp_path / "secrets" / "app.txt", "file-held-client-secret\n")
    path = write(
        tmp_path / "p.toml",
        f"""
[credentials]
client_id = "{GUID}"
client_secret_file = "secrets/app.txt"
certificate_password = "pfx-password-123"

[[credentials.carriers]]
name = "ops"
client_id = "{GUID}"
client_secret = "carrier-secret-456"

[store]
url = "postgresql+psycopg://partnerlink:db-password-789@db.internal:5432/partnerlink"

[alerts]
heartbeat_url = "https://hc-ping.com/heartbeat-uuid-000"
""",
    )
    settings = load_settings(path)

    shown = json.dumps(redacted(settings))

    for secret in (
        "file-held-client-secret",
        "pfx-password-123",
        "carrier-secret-456",
        "db-password-789",
        "heartbeat-uuid-000",
    ):
        assert secret not in shown
        assert secret not in repr(settings)
    data = redacted(settings)
    assert data["credentials"]["client_secret"] == "**********"
    assert data["store"]["url"] == (
        "postgresql+psycopg://partnerlink:**********@db.internal:5432/partnerlink"
    )
    assert settings.credentials.client_secret is not None
    assert settings.credentials.client_secret.get_secret_value() == "file-held-client-secret"


@pytest.mark.parametrize(
    ("url", "secret"),
    [
        ("postgresql://agent:pw-1@db/partnerlink", "pw-1"),
        ("postgresql://:pw-2@db/partnerlink", "pw-2"),
        ("postgresql://agent:p%40ss-3@db/partnerlink", "p%40ss-3"),
    ],
)
def test_redacted_database_url_hides_the_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, url: str, secret: str
) -> None:
    monkeypatch.setenv("PARTNERLINK_STORE__URL", url)

    settings = load_settings(write(tmp_path / "p.toml", ""))

    assert secret not in json.dumps(redacted(settings))


def test_redacted_keeps_urls_without_a_password_readable(tmp_path: Path) -> None:
    path = write(tmp_path / "p.toml", '[store]\nurl = "postgresql://agent@db/partnerlink"\n')

    assert redacted(load_settings(path))["store"]["url"] == "postgresql://agent@db/partnerlink"


# ------------------------------------------------------------------------- paths


def test_relative_paths_resolve_against_the_config_files_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "etc" / "partnerlink"
    write(home / "secrets" / "app.txt", "secret-from-a-relative-file\n")
    Cert().pem(home / "secrets" / "ops.pem")
    write(home / "managed.csv", "customer_tenant_id,workloads,expected_links\n")
    path = write(
        home / "partnerlink.toml",
        f"""
[credentials]
client_id = "{GUID}"
client_secret_file = "secrets/app.txt"
refresh_token_file = "data/refresh-token"

[[credentials.carriers]]
name = "ops"
client_id = "{GUID}"
certificate_file = "secrets/ops.pem"

[sources]
mode = "fake"
scenario = "world.json"
insights_folder = "insights"

[store]
data_dir = "data"

[expectations]
managed_customers_file = "managed.csv"
""",
    )
    elsewhere = tmp_path / "somewhere" / "else"
    elsewhere.mkdir(parents=True)
    monkeypatch.chdir(elsewhere)

    settings = load_settings(Path("../..") / path.relative_to(tmp_path))

    assert settings.credentials.client_secret is not None
    assert settings.credentials.client_secret.get_secret_value() == "secret-from-a-relative-file"
    assert settings.credentials.refresh_token_file == home / "data" / "refresh-token"
    assert settings.credentials.carriers[0].certificate_file == home / "secrets" / "ops.pem"
    assert settings.sources.scenario == home / "world.json"
    assert settings.sources.insights_folder == home / "insights"
    assert settings.store.data_dir == home / "data"
    assert settings.store.resolved_url() == f"sqlite:///{home / 'data' / 'partnerlink.db'}"
    assert settings.expectations.managed_customers_file == home / "managed.csv"


def test_absolute_paths_are_kept(tmp_path: Path) -> None:
    data = tmp_path / "var" / "lib"
    path = write(tmp_path / "conf" / "p.toml", f'[store]\ndata_dir = "{data.as_posix()}"\n')

    assert load_settings(path).store.data_dir == data


# ------------------------------------------------------------------------- the command line


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARTNERLINK_")}
    env["COLUMNS"] = "40"  # a narrow terminal must not wrap the error over several lines
    return subprocess.run(
        [sys.executable, "-m", "agent", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_cli_check_with_a_broken_config_exits_2_with_one_line_naming_the_key(
    tmp_path: Path,
) -> None:
    write(tmp_path / "broken.toml", '[sync]\nconcurrency = "many"\n')

    done = _cli("--config", "broken.toml", "check", cwd=tmp_path)

    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "broken.toml: sync.concurrency:" in lines[0]
    assert "Traceback" not in done.stderr + done.stdout


def test_cli_check_prints_the_effective_settings_without_secrets(tmp_path: Path) -> None:
    write(
        tmp_path / "good.toml",
        f'[credentials]\nclient_id = "{GUID}"\nclient_secret = "cli-secret-never-shown"\n',
    )

    done = _cli("--config", "good.toml", "check", cwd=tmp_path)

    assert done.returncode == 0, done.stderr
    assert "is valid" in done.stdout
    assert "cli-secret-never-shown" not in done.stdout + done.stderr
