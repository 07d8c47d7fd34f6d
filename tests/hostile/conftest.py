"""The hostile estate: the world of ``names.py`` synced through the fake connectors, audited, and
its alerts delivered to a local receiver and a local SMTP server by all six sinks."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from agent.alerts import AlertsConfig, Dispatcher, build_sinks
from agent.app import Agent
from agent.config import load_settings
from agent.store import Store
from agent.store.models import Finding
from tests.alerts.support import Mail, Receiver, Reply, SmtpServer
from tests.conftest import Clock
from tests.hostile.names import HOSTILE, world

SMTP_PASSWORD = "s3cret-smtp-pass"
ROUTING_KEY = "R0ut1ngKeyR0ut1ngKeyR0ut1ngKey12"
GENIE_KEY = "eb243592-faa2-4ba2-a551-1afdf565c889"
PARTNER_NAME = HOSTILE["markup_style"] + " " + HOSTILE["html_script"]
"""The partner's own name in the config, as the report's title shows it."""


@dataclass
class Estate:
    config: Path
    findings: list[Finding]
    requests: dict[str, list[Any]]
    """Requests the receiver got, by sink: teams, slack, webhook, pagerduty, opsgenie."""
    mails: list[Mail]
    outbox: dict[str, int]


def config_text(world_file: str, mode: str = "fake", alerts: str = "") -> str:
    lines = [
        "[partner]",
        'tenant_id = "7a11ce00-0000-4000-8000-000000000001"',
        f"name = {json.dumps(PARTNER_NAME)}",
        'global_partner_id = "4100001"',
        "[[partner.locations]]",
        'partner_id = "4100002"',
        'link_kinds = ["pal", "cpor", "dpor"]',
        "[sources]",
        f'mode = "{mode}"',
        f'scenario = "{world_file}"',
        "[store]",
        'data_dir = "."',
    ]
    return "\n".join(lines) + "\n" + alerts


def alerts_text(receiver: Receiver, smtp: SmtpServer) -> str:
    return f"""
[alerts]
group_max_items = 50

[[alerts.sinks]]
name = "teams"
type = "teams"
allow_private = true
url = "{receiver.url("/workflows/abc/triggers/manual/paths/invoke?sig=SIGsecretValue0123")}"

[[alerts.sinks]]
name = "slack"
type = "slack"
allow_private = true
url = "{receiver.url("/services/T000/B000/XXXXslacktoken")}"

[[alerts.sinks]]
name = "webhook"
type = "webhook"
allow_private = true
url = "{receiver.url("/hook")}"
secret = "hmac-secret-0123456789abcdef"

[[alerts.sinks]]
name = "pagerduty"
type = "pagerduty"
allow_private = true
url = "{receiver.url("/v2/enqueue")}"
routing_key = "{ROUTING_KEY}"

[[alerts.sinks]]
name = "opsgenie"
type = "opsgenie"
allow_private = true
api_url = "{receiver.url("")}"
api_key = "{GENIE_KEY}"

[[alerts.sinks]]
name = "email"
type = "email"
host = "127.0.0.1"
port = {smtp.port}
username = "agent"
password = "{SMTP_PASSWORD}"
sender = "agent@example.com"
to = ["ops@example.com"]
"""


def sync_and_audit(config: Path, clock: Clock) -> Agent:
    """One sync and its audit (which plans the alerts); the caller closes the agent."""
    agent = Agent(load_settings(config), clock=clock)
    synced = agent.sync()
    assert synced.status.value == "complete", synced.stats()
    agent.audit(synced.run_id)
    return agent


async def drain(store: Store, alerts: AlertsConfig, smtp: SmtpServer, clock: Clock) -> None:
    """Deliver the outbox once, trusting the local SMTP server's certificate."""
    async with build_sinks(alerts, clock=clock, ssl_context=smtp.client_ctx) as sinks:
        await Dispatcher(store, sinks, clock=clock).drain()


def sink_of(path: str) -> str:
    for prefix, sink in (
        ("/workflows/", "teams"),
        ("/services/", "slack"),
        ("/hook", "webhook"),
        ("/v2/enqueue", "pagerduty"),
        ("/v2/alerts", "opsgenie"),
    ):
        if path.startswith(prefix):
            return sink
    raise AssertionError(f"a request nobody expected: {path}")


@pytest.fixture(scope="module")
def estate(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Estate]:
    folder = tmp_path_factory.mktemp("hostile")
    (folder / "world.json").write_text(json.dumps(world()), encoding="utf-8")
    with Receiver() as receiver, SmtpServer(password=SMTP_PASSWORD) as smtp:
        receiver.default = Reply(202, b"ok")
        config = folder / "partnerlink.toml"
        config.write_text(config_text("world.json", alerts=alerts_text(receiver, smtp)))
        clock = Clock()
        clock.advance(hours=1)
        with sync_and_audit(config, clock) as agent:
            asyncio.run(drain(agent.store, agent.settings.alerts, smtp, clock))
            findings = agent.store.findings()
            outbox = agent.store.outbox_counts()
        requests: dict[str, list[Any]] = {}
        for request in receiver.requests:
            requests.setdefault(sink_of(request.path), []).append(request)
        yield Estate(config, findings, requests, list(smtp.mails), outbox)
