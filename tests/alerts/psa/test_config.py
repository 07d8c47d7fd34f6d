"""A PSA sink's credentials are given one way each: inline, in a file (a path relative to the
config file) or in an environment variable; a problem names the key and the file or variable
and never the value; the shown settings mask them; the config example documents the three
sink types."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from agent.alerts.config import AlertsConfig
from agent.alerts.sinks.autotask import AutotaskSinkConfig
from agent.alerts.sinks.config import ApiSinkBase
from agent.alerts.sinks.connectwise import ConnectWiseSinkConfig
from agent.alerts.sinks.halopsa import HaloPsaSinkConfig
from agent.config import ConfigError, load_settings
from agent.config.redact import redacted
from tests.alerts.psa import connectwise as cw

ROOT = Path(__file__).resolve().parents[3]
KEY = "cw-private-key-from-a-file-0123"


def sink(**extra: Any) -> dict[str, Any]:
    found = {
        "type": "connectwise",
        "name": "cw",
        "url": "https://api-na.myconnectwise.net",
        "company": "acme",
        "public_key": "pub",
        "client_id": cw.CLIENT_ID,
        "board": "Help Desk",
        "company_identifier": "Catchall",
        **extra,
    }
    return {k: v for k, v in found.items() if v is not None}


def parse(**extra: Any) -> ConnectWiseSinkConfig:
    config = AlertsConfig.model_validate(
        {"sinks": [sink(**extra)]}, context={"resolve": lambda h, p: ["93.184.216.34"]}
    )
    (found,) = config.sinks
    assert isinstance(found, ConnectWiseSinkConfig)
    return found


def test_a_credential_is_read_from_a_file_or_an_environment_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "cw.key").write_text(KEY + "\n", encoding="utf-8")
    assert parse(private_key_file=str(tmp_path / "cw.key")).private_key.get_secret_value() == KEY
    monkeypatch.setenv("CW_PRIVATE_KEY", KEY)
    assert parse(private_key_env="CW_PRIVATE_KEY").private_key.get_secret_value() == KEY
    assert parse(private_key=KEY).private_key.get_secret_value() == KEY


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ({}, "private_key"),
        ({"private_key": KEY, "private_key_env": "CW_KEY"}, "give one of private_key"),
        ({"private_key_file": "/nonexistent/cw.key"}, "private_key_file: cannot read"),
        ({"private_key_env": "PARTNERLINK_TEST_UNSET"}, "PARTNERLINK_TEST_UNSET is not set"),
    ],
)
def test_a_credential_problem_names_the_key_and_never_the_value(
    given: dict[str, Any], expected: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        parse(**given)
    assert expected in str(caught.value)
    assert KEY not in str(caught.value)


def test_credential_files_in_the_config_are_relative_to_it_and_masked_when_shown(
    tmp_path: Path,
) -> None:
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "cw.key").write_text(KEY, encoding="utf-8")
    (tmp_path / "secrets" / "cw.client").write_text(cw.CLIENT_ID, encoding="utf-8")
    fields = sink(private_key_file="secrets/cw.key", client_id=None)
    fields["client_id_file"] = "secrets/cw.client"
    lines = "\n".join(f"{k} = {json.dumps(v)}" for k, v in fields.items())
    config = tmp_path / "partnerlink.toml"
    config.write_text(
        '[store]\ndata_dir = "."\n[[alerts.sinks]]\n' + lines,
        encoding="utf-8",
    )
    settings = load_settings(config)
    (found,) = settings.alerts.sinks
    assert isinstance(found, ConnectWiseSinkConfig)
    assert found.private_key.get_secret_value() == KEY
    assert found.client_id.get_secret_value() == cw.CLIENT_ID
    shown = json.dumps(redacted(settings))
    assert KEY not in shown and cw.CLIENT_ID not in shown
    assert str(tmp_path / "secrets" / "cw.key") in shown, "where it came from is shown"


def test_a_missing_credential_file_stops_the_config_with_one_line(tmp_path: Path) -> None:
    lines = "\n".join(
        f"{k} = {json.dumps(v)}" for k, v in sink(private_key_file="missing.key").items()
    )
    config = tmp_path / "partnerlink.toml"
    config.write_text("[[alerts.sinks]]\n" + lines, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(config)
    message = str(caught.value)
    assert "alerts.sinks" in message and "private_key_file: cannot read" in message
    assert str(tmp_path / "missing.key") in message


def test_the_config_example_shows_each_ticket_sink_and_every_key_it_takes() -> None:
    example = (ROOT / "config.example.toml").read_text(encoding="utf-8")
    for model in (ConnectWiseSinkConfig, AutotaskSinkConfig, HaloPsaSinkConfig):
        kind = model.model_fields["type"].annotation.__args__[0]  # type: ignore[union-attr]
        block = example.split(f'# type = "{kind}"', 1)[1].split("\n#\n", 1)[0]
        for key in set(model.model_fields) - set(ApiSinkBase.model_fields) - {"type"}:
            assert f"# {key} = " in block, f"{kind}: {key}"


def test_customer_mappings_take_tenant_ids_in_any_case() -> None:
    upper = "11111111-AAAA-4AAA-8AAA-111111111111"
    assert parse(private_key=KEY, customer_companies={upper: "Contoso"}).customer_companies == {
        upper.lower(): "Contoso"
    }
    with pytest.raises(ValidationError, match="expected customer tenant ids"):
        parse(private_key=KEY, customer_companies={"Contoso": "Contoso"})


def test_the_halopsa_authorisation_server_is_held_to_the_same_url_rules() -> None:
    base = {
        "type": "halopsa",
        "name": "halo",
        "url": "https://contoso.halopsa.com",
        "client_id": "app",
        "client_secret": "halo-secret-0123456789",
        "customer_id": 12,
    }
    public = {"resolve": lambda h, p: ["93.184.216.34"]}
    config = AlertsConfig.model_validate({"sinks": [base]}, context=public)
    (halo,) = config.sinks
    assert isinstance(halo, HaloPsaSinkConfig)
    assert halo.token_url == "https://contoso.halopsa.com/auth/token"
    with pytest.raises(ValidationError, match="https"):
        AlertsConfig.model_validate(
            {"sinks": [{**base, "auth_url": "http://auth.example/auth"}]}, context=public
        )
