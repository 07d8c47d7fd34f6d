"""The ``[alerts]`` settings: sink types by ``type``, durations, unique names, secrets hidden."""

from __future__ import annotations

import tomllib
from datetime import timedelta
from types import SimpleNamespace

import pytest
from pydantic import ValidationError

from agent.alerts.config import AlertsConfig, UnknownSink
from agent.alerts.settings import SEVERITIES
from agent.alerts.sinks.email import EmailSinkConfig
from agent.alerts.sinks.slack import SlackSinkConfig
from agent.alerts.sinks.teams import TeamsSinkConfig
from agent.alerts.sinks.webhook import WebhookSinkConfig
from agent.audit.model import Severity

TOML = """
repeat_interval = "12h"
group_max_items = 5
allow_hosts = ["logic.azure.com", "hooks.slack.com", "example.com"]

[[sinks]]
type = "teams"
name = "ops-teams"
url = "https://prod-01.westeurope.logic.azure.com/workflows/x/triggers/manual/paths/invoke?sig=abc"
rules = ["cannot_verify"]

[[sinks]]
type = "slack"
name = "am-alice"
url = "https://hooks.slack.com/services/T0/B0/XYZ"
customer_tags = ["am-alice"]
min_severity = "high"

[[sinks]]
type = "webhook"
name = "siem"
url = "https://siem.example.com/partnerlink"
secret = "0123456789abcdef0123"

[[sinks]]
type = "email"
name = "mail"
host = "smtp.example.com"
username = "agent"
password = "pw-123456"
sender = "agent@example.com"
to = ["ops@example.com"]
send_resolved = false

[[silences]]
customer = "11111111-1111-1111-1111-111111111111"
expires_at = 2026-12-01T00:00:00Z
comment = "tenant migration"
"""


def no_dns(host: str, port: int) -> list[str]:
    raise OSError("offline")


def load(text: str = TOML) -> AlertsConfig:
    return AlertsConfig.model_validate(tomllib.loads(text), context={"resolve": no_dns})


def test_a_full_alerts_section_parses_into_typed_sinks() -> None:
    config = load()
    assert [type(s) for s in config.sinks] == [
        TeamsSinkConfig,
        SlackSinkConfig,
        WebhookSinkConfig,
        EmailSinkConfig,
    ]
    assert config.repeat_interval == timedelta(hours=12)
    assert config.delivery_deadline == timedelta(hours=6)
    assert config.group_max_items == 5
    assert config.silences[0].comment == "tenant migration"
    assert config.sink("mail").send_resolved is False
    assert "pw-123456" not in repr(config)


def test_defaults() -> None:
    config = AlertsConfig()
    assert config.repeat_interval == timedelta(hours=24)
    assert config.group_max_items == 10
    assert config.sinks == []


def test_unknown_sink_type_and_unknown_keys_are_refused() -> None:
    with pytest.raises(ValidationError):
        AlertsConfig.model_validate({"sinks": [{"type": "carrier-pigeon", "name": "x"}]})
    with pytest.raises(ValidationError, match="extra"):
        load(TOML.replace('rules = ["cannot_verify"]', 'rulez = ["x"]'))


def test_sink_names_must_be_unique() -> None:
    with pytest.raises(ValidationError, match="unique"):
        load(TOML.replace('name = "am-alice"', 'name = "ops-teams"'))


def test_email_needs_both_username_and_password_or_neither() -> None:
    with pytest.raises(ValidationError, match="both"):
        load(TOML.replace('password = "pw-123456"\n', ""))


def test_webhook_secret_must_be_long_enough_and_is_not_echoed() -> None:
    with pytest.raises(ValidationError) as caught:
        load(TOML.replace('"0123456789abcdef0123"', '"short-sec"'))
    assert "16 characters" in str(caught.value)
    assert "short-sec" not in str(caught.value)


def test_durations_accept_the_project_forms() -> None:
    assert AlertsConfig(repeat_interval="90m").repeat_interval == timedelta(minutes=90)
    assert AlertsConfig(repeat_interval=3600).repeat_interval == timedelta(hours=1)
    with pytest.raises(ValidationError, match="duration"):
        AlertsConfig(repeat_interval="soon")


def test_unknown_sink_name_says_which_exist() -> None:
    with pytest.raises(UnknownSink, match="ops-teams"):
        load().sink("nope")


def test_adopts_a_section_that_mounts_the_same_fields() -> None:
    config = load()
    section = SimpleNamespace(**{name: getattr(config, name) for name in AlertsConfig.model_fields})
    adopted = AlertsConfig.of(section)
    assert adopted.sinks == config.sinks
    assert AlertsConfig.of(config) is config


def test_severity_names_match_the_audit_model() -> None:
    assert tuple(s.value for s in Severity) == SEVERITIES
