"""PagerDuty (Events API v2) and Opsgenie (Alert API) against a real local receiver: one event
per finding keyed by the finding's dedup key across first, repeat and resolve (guarantee dedup-and-repeat); how their
answers map to retry or give up; config errors that name the key; keys kept out of logs,
errors and ``partnerlink check`` (guarantee no-secrets-out)."""

from __future__ import annotations

import io
import json
import os
import random
import subprocess
import sys
from collections import OrderedDict
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import structlog
from pydantic import ValidationError

from agent.alerts.config import AlertsConfig
from agent.alerts.dispatcher import Dispatcher
from agent.alerts.errors import DeliveryError, PermanentDeliveryError, TransientDeliveryError
from agent.alerts.grouping import group_messages, single
from agent.alerts.message import Action, AlertItem, Message
from agent.alerts.outbox import enqueue
from agent.alerts.probe import send_test
from agent.alerts.sinks.incident import IncidentApiSink
from agent.alerts.sinks.opsgenie import OpsgenieSinkConfig
from agent.alerts.sinks.pagerduty import PagerDutySinkConfig
from agent.alerts.sinkset import build_sinks
from agent.config import ConfigError, load_settings
from agent.store import Store
from tests.alerts.support import Receiver, Reply, virtual_sleep
from tests.conftest import T0, Clock
from tests.logs import project_logging as captured_logs

pytestmark = pytest.mark.anyio

NOW = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)
ROUTING_KEY = "R0ut1ngKeyR0ut1ngKeyR0ut1ngKey12"
GENIE_KEY = "eb243592-faa2-4ba2-a551-1afdf565c889"
ACCEPTED = Reply(202, b'{"status":"success","message":"Event processed"}')
KEYS = (ROUTING_KEY, GENIE_KEY)
DETAILS = {
    "customer": "Contoso (11111111-1111-1111-1111-111111111111)",
    "rule": "Link missing (link_missing)",
    "severity": "high",
    "subject": "subscription 0",
    "link_kind": "pal",
    "first_seen": "2026-11-02T02:00:00+00:00",
    "what_to_do": "Link the partner ID with `az managementpartner create`.",
    "finding": "fp000",
    "evidence": "partnerlink explain fp000",
    "notification": "New, run 4",
}
"""The details PagerDuty and Opsgenie both get for ``item()``, the high PAL finding."""


@pytest.fixture(autouse=True)
def _fresh_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    """The sinks remember accepted events per process; a test reusing a message (and, by
    chance, a port an earlier receiver had) must not find them already sent."""
    monkeypatch.setattr(IncidentApiSink, "accepted", OrderedDict())


def clock() -> datetime:
    return NOW


def no_dns(host: str, port: int) -> list[str]:
    raise OSError("offline")


def sinks_for(receiver: Receiver, **pagerduty: Any) -> list[dict[str, Any]]:
    return [
        {
            "type": "pagerduty",
            "name": "on-call",
            "allow_private": True,
            "url": receiver.url("/v2/enqueue"),
            "routing_key": ROUTING_KEY,
            **pagerduty,
        },
        {
            "type": "opsgenie",
            "name": "genie",
            "allow_private": True,
            "api_url": receiver.url(""),
            "api_key": GENIE_KEY,
        },
    ]


def config_for(receiver: Receiver, **pagerduty: Any) -> AlertsConfig:
    return AlertsConfig.model_validate({"sinks": sinks_for(receiver, **pagerduty)})


def item(i: int = 0, severity: str = "high") -> AlertItem:
    return AlertItem(
        fingerprint=f"fp{i:03d}",
        rule="link_missing",
        severity=severity,
        status="open",
        title=f"PAL missing on subscription {i}",
        subject=f"subscription {i}",
        customer_tenant_id="11111111-1111-1111-1111-111111111111",
        customer_name="Contoso",
        link_kind="pal",
        remediation="Link the partner ID with `az managementpartner create`.",
        first_seen=T0,
    )


def one(action: Action, *, run_id: int = 4, severity: str = "high") -> Message:
    return single(
        item(severity=severity), action, run_id=run_id, now=NOW, rule_title="Link missing"
    )


def group(n: int, action: Action = Action.FIRST) -> Message:
    decided = [(item(i, "critical" if i < 3 else "medium"), action) for i in range(n)]
    (message,) = group_messages(
        decided, max_items=10, run_id=4, now=NOW, rule_titles={"link_missing": "Link missing"}
    )
    return message


def leaked(text: str) -> list[str]:
    return [key for key in KEYS if key in text]


# ------------------------------------------------------------------------------ PagerDuty


async def test_pagerduty_trigger_is_the_documented_event_with_the_finding_key(
    receiver: Receiver,
) -> None:
    receiver.default = ACCEPTED
    async with build_sinks(config_for(receiver), clock=clock) as sinks:
        result = await sinks["on-call"].send(one(Action.FIRST))
    assert result.status_code == 202
    (request,) = receiver.requests
    assert request.path == "/v2/enqueue"
    assert request.headers["content-type"] == "application/json"
    assert request.json() == {
        "routing_key": ROUTING_KEY,
        "event_action": "trigger",
        "dedup_key": "fp000",
        "payload": {
            "summary": "PAL missing on subscription 0 · Contoso "
            "(11111111-1111-1111-1111-111111111111)",
            "source": "partnerlink",
            "severity": "error",
            "timestamp": "2026-11-02T02:00:00+00:00",
            "class": "link_missing",
            "custom_details": DETAILS,
        },
    }


async def test_pagerduty_repeat_and_resolve_carry_the_same_dedup_key(
    receiver: Receiver,
) -> None:
    receiver.default = ACCEPTED
    async with build_sinks(config_for(receiver), clock=clock) as sinks:
        for message in (
            one(Action.FIRST),
            one(Action.REPEAT, run_id=5),
            one(Action.RESOLVED, run_id=6),
            one(Action.NEW, run_id=7),
        ):
            await sinks["on-call"].send(message)
    bodies = [r.json() for r in receiver.requests]
    assert [b["dedup_key"] for b in bodies] == ["fp000"] * 4
    assert [b["event_action"] for b in bodies] == ["trigger", "trigger", "resolve", "trigger"]
    assert bodies[2] == {
        "routing_key": ROUTING_KEY,
        "dedup_key": "fp000",
        "event_action": "resolve",
    }


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        ("critical", "critical"),
        ("high", "error"),
        ("medium", "warning"),
        ("low", "info"),
        ("info", "info"),
    ],
)
async def test_pagerduty_severity_mapping(receiver: Receiver, ours: str, theirs: str) -> None:
    receiver.default = ACCEPTED
    async with build_sinks(config_for(receiver), clock=clock) as sinks:
        await sinks["on-call"].send(one(Action.FIRST, severity=ours))
    assert receiver.requests[0].json()["payload"]["severity"] == theirs


async def test_a_group_becomes_one_event_per_finding_each_with_its_own_key(
    receiver: Receiver,
) -> None:
    receiver.default = ACCEPTED
    message = group(12)
    assert message.dedup_key not in message.fingerprints, "a group's key is not a finding's"
    async with build_sinks(config_for(receiver), clock=clock) as sinks:
        result = await sinks["on-call"].send(message)
        await sinks["on-call"].send(group(12, Action.RESOLVED))
    assert result.detail == "12 event(s) accepted"
    triggers, resolves = receiver.requests[:12], receiver.requests[12:]
    keys = [r.json()["dedup_key"] for r in triggers]
    assert keys == list(message.fingerprints)
    assert sorted(keys) == [f"fp{i:03d}" for i in range(12)]
    assert [r.json()["dedup_key"] for r in resolves] == keys
    assert {r.json()["event_action"] for r in resolves} == {"resolve"}
    # The two findings beyond group_max_items travel only as keys: summarised from the group,
    # at the severity of the least severe listed one (never understated).
    unlisted = [r.json()["payload"] for r in triggers[10:]]
    for payload, key in zip(unlisted, keys[10:], strict=True):
        assert payload["summary"] == (
            f"Link missing: one of 12 findings, not listed in this "
            f"message; run `partnerlink explain {key}`"
        )
        assert payload["severity"] == "warning"
        assert "customer" not in payload["custom_details"]


async def test_a_retry_after_429_resumes_after_the_events_already_accepted(
    receiver: Receiver,
) -> None:
    receiver.script(ACCEPTED, ACCEPTED, Reply(429, b"", {"Retry-After": "30"}))
    receiver.default = ACCEPTED
    message = group(5)
    async with build_sinks(config_for(receiver), clock=clock) as sinks:
        with pytest.raises(TransientDeliveryError) as caught:
            await sinks["on-call"].send(message)
        assert caught.value.retry_after == 30.0
        result = await sinks["on-call"].send(message)
    keys = [r.json()["dedup_key"] for r in receiver.requests]
    fps = list(message.fingerprints)
    assert keys == [fps[0], fps[1], fps[2], fps[2], fps[3], fps[4]]
    assert result.detail == "3 event(s) accepted, 2 earlier"


# ------------------------------------------------------------------------------- Opsgenie


async def test_opsgenie_creates_with_the_finding_key_as_alias_and_closes_by_alias(
    receiver: Receiver,
) -> None:
    receiver.default = Reply(202, b'{"result":"Request will be processed","took":0.1}')
    async with build_sinks(config_for(receiver), clock=clock) as sinks:
        for message in (
            one(Action.FIRST),
            one(Action.REPEAT, run_id=5),
            one(Action.RESOLVED, run_id=6),
        ):
            result = await sinks["genie"].send(message)
            assert result.status_code == 202
    create, repeat, close = receiver.requests
    for request in receiver.requests:
        assert request.headers["authorization"] == f"GenieKey {GENIE_KEY}"
        assert request.headers["content-type"] == "application/json"
    assert create.path == repeat.path == "/v2/alerts"
    assert close.path == "/v2/alerts/fp000/close?identifierType=alias"
    assert create.json() == {
        "message": "PAL missing on subscription 0",
        "alias": "fp000",
        "description": "\n".join(
            [
                "PAL missing on subscription 0 · Contoso (11111111-1111-1111-1111-111111111111)",
                "",
                "customer: Contoso (11111111-1111-1111-1111-111111111111)",
                "rule: Link missing (link_missing)",
                "severity: high",
                "subject: subscription 0",
                "link kind: pal",
                "first seen: 2026-11-02T02:00:00+00:00",
                "what to do: Link the partner ID with `az managementpartner create`.",
                "finding: fp000",
                "evidence: partnerlink explain fp000",
                "notification: New, run 4",
            ]
        ),
        "priority": "P2",
        "details": DETAILS,
        "source": "partnerlink",
        "tags": ["partnerlink", "link_missing", "high", "pal"],
        "entity": "Contoso (11111111-1111-1111-1111-111111111111)",
    }
    assert repeat.json()["alias"] == "fp000"
    assert close.json() == {
        "source": "partnerlink",
        "note": "Resolved: PAL missing on subscription 0 · Contoso "
        "(11111111-1111-1111-1111-111111111111)",
    }


@pytest.mark.parametrize(
    ("ours", "priority"),
    [
        ("critical", "P1"),
        ("high", "P2"),
        ("medium", "P3"),
        ("low", "P4"),
        ("info", "P5"),
    ],
)
async def test_opsgenie_priority_mapping(receiver: Receiver, ours: str, priority: str) -> None:
    receiver.default = ACCEPTED
    async with build_sinks(config_for(receiver), clock=clock) as sinks:
        await sinks["genie"].send(one(Action.FIRST, severity=ours))
    assert receiver.requests[0].json()["priority"] == priority


async def test_opsgenie_message_is_cut_to_130_characters(receiver: Receiver) -> None:
    receiver.default = ACCEPTED
    long = AlertItem(
        fingerprint="fp-long", rule="link_missing", severity="low", status="open", title="x" * 400
    )
    message = single(long, Action.FIRST, run_id=1, now=NOW, rule_title="Link missing")
    async with build_sinks(config_for(receiver), clock=clock) as sinks:
        await sinks["genie"].send(message)
    body = receiver.requests[0].json()
    assert len(body["message"]) == 130
    assert body["alias"] == "fp-long"
    assert "entity" in body


# ----------------------------------------------------------------------- retry or give up


@pytest.mark.parametrize("sink", ["on-call", "genie"])
@pytest.mark.parametrize(
    ("reply", "error", "retry_after"),
    [
        (Reply(429, b"", {"Retry-After": "12"}), TransientDeliveryError, 12.0),
        (Reply(500, b"boom"), TransientDeliveryError, None),
        (Reply(502, b""), TransientDeliveryError, None),
        (Reply(503, b"", {"Retry-After": "7"}), TransientDeliveryError, 7.0),
        (Reply(400, echo=True), PermanentDeliveryError, None),
        (Reply(422, echo=True), PermanentDeliveryError, None),
        (Reply(403, b"Key is not authorized"), PermanentDeliveryError, None),
        (Reply(200, b"<html>a web page</html>"), PermanentDeliveryError, None),
    ],
)
async def test_answers_map_to_retry_or_give_up_without_echoing_the_key(
    receiver: Receiver,
    sink: str,
    reply: Reply,
    error: type[DeliveryError],
    retry_after: float | None,
) -> None:
    receiver.default = reply
    async with build_sinks(config_for(receiver), clock=clock) as sinks:
        with pytest.raises(error) as caught:
            await sinks[sink].send(one(Action.FIRST))
    assert len(receiver.requests) == 1, "stops at the first failure, no hidden retry"
    assert caught.value.status == reply.status
    assert leaked(str(caught.value)) == []
    if isinstance(caught.value, TransientDeliveryError):
        assert caught.value.retry_after == retry_after


async def test_an_unreachable_service_is_transient() -> None:
    with Receiver() as gone:
        config = config_for(gone)
    async with build_sinks(config, clock=clock) as sinks:
        for name in ("on-call", "genie"):
            with pytest.raises(TransientDeliveryError, match="connection failed"):
                await sinks[name].send(one(Action.FIRST))


# ---------------------------------------------------------------------------------- config


def test_defaults_are_the_public_endpoints() -> None:
    config = AlertsConfig.model_validate(
        {
            "sinks": [
                {"type": "pagerduty", "name": "pd", "routing_key": ROUTING_KEY},
                {"type": "opsgenie", "name": "og", "api_key": GENIE_KEY},
                {
                    "type": "opsgenie",
                    "name": "og-eu",
                    "api_key": GENIE_KEY,
                    "api_url": "https://api.eu.opsgenie.com/",
                },
            ]
        },
        context={"resolve": no_dns},
    )
    pd, og, eu = config.sinks
    assert isinstance(pd, PagerDutySinkConfig)
    assert pd.url == "https://events.pagerduty.com/v2/enqueue"
    assert isinstance(og, OpsgenieSinkConfig)
    assert og.api_url == "https://api.opsgenie.com"
    assert isinstance(eu, OpsgenieSinkConfig)
    assert eu.api_url == "https://api.eu.opsgenie.com"
    assert leaked(repr(config) + str(config.model_dump(mode="json"))) == []


@pytest.mark.parametrize(
    ("sink", "key", "why"),
    [
        ({"type": "pagerduty", "name": "pd"}, "routing_key", "Field required"),
        (
            {"type": "pagerduty", "name": "pd", "routing_key": "y_NbAkKc66ryYTWUXYEu"},
            "routing_key",
            "32-character Integration Key",
        ),
        (
            {
                "type": "pagerduty",
                "name": "pd",
                "routing_key": ROUTING_KEY,
                "url": "http://events.pagerduty.com/v2/enqueue",
            },
            "url",
            "https",
        ),
        (
            {
                "type": "pagerduty",
                "name": "pd",
                "routing_key": ROUTING_KEY,
                "url": "https://169.254.169.254/v2/enqueue",
            },
            "url",
            "IP address",
        ),
        ({"type": "opsgenie", "name": "og"}, "api_key", "Field required"),
        (
            {"type": "opsgenie", "name": "og", "api_key": f"GenieKey {GENIE_KEY}"},
            "api_key",
            "no 'GenieKey' prefix",
        ),
        (
            {
                "type": "opsgenie",
                "name": "og",
                "api_key": GENIE_KEY,
                "api_url": "https://localhost/",
            },
            "api_url",
            "local name",
        ),
        (
            {
                "type": "opsgenie",
                "name": "og",
                "api_key": GENIE_KEY,
                "api_url": "https://api.opsgenie.com/?x=1",
            },
            "api_url",
            "without a query",
        ),
    ],
)
def test_config_errors_name_the_key_and_never_show_a_key(
    sink: dict[str, Any],
    key: str,
    why: str,
) -> None:
    with pytest.raises(ValidationError) as caught:
        AlertsConfig.model_validate({"sinks": [sink]}, context={"resolve": no_dns})
    text = str(caught.value)
    assert key in text
    assert why in text
    assert leaked(text) == [] and "y_NbAkKc66ryYTWUXYEu" not in text


def test_allow_hosts_governs_the_api_hosts_too() -> None:
    sinks = [{"type": "pagerduty", "name": "pd", "routing_key": ROUTING_KEY}]
    refused = r"'events\.pagerduty\.com' is not in alerts\.allow_hosts"
    with pytest.raises(ValidationError, match=refused):
        AlertsConfig.model_validate(
            {"sinks": sinks, "allow_hosts": ["hooks.slack.com"]}, context={"resolve": no_dns}
        )
    allowed = AlertsConfig.model_validate(
        {"sinks": sinks, "allow_hosts": ["pagerduty.com"]}, context={"resolve": no_dns}
    )
    assert allowed.sinks[0].name == "pd"


def test_a_broken_key_in_the_file_is_one_line_naming_it_without_its_value(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in list(os.environ):
        if name.startswith("PARTNERLINK_"):
            monkeypatch.delenv(name)
    path = tmp_path / "broken.toml"
    path.write_text(
        '[[alerts.sinks]]\ntype = "pagerduty"\nname = "pd"\n'
        'routing_key = "not-the-key-you-want-1234"\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    message = str(caught.value)
    assert "alerts.sinks[0].pagerduty: routing_key: expected the 32-character" in message
    assert "not-the-key-you-want-1234" not in message
    assert "\n" not in message


# ------------------------------------------------------------------ secrets (guarantee no-secrets-out), the CLI


@pytest.fixture
def project_logging() -> Iterator[io.StringIO]:
    """The project's structlog set-up writing to a buffer (``tests.logs``)."""
    with captured_logs() as stream:
        yield stream


async def test_keys_stay_out_of_logs_errors_and_the_outbox(
    sqlite_store: Store,
    clock: Clock,
    project_logging: io.StringIO,
) -> None:
    with Receiver() as receiver:
        # Each service first fails with 500 (retried), then 400 with the request echoed back.
        receiver.default = Reply(400, echo=True)
        receiver.script(Reply(500, echo=True), Reply(500, echo=True))
        config = config_for(receiver)
        with sqlite_store.transaction() as tx:
            for sink in config.sinks:
                enqueue(tx.outbox, one(Action.FIRST), sink=sink.name, now=T0, run_id=1)
        with structlog.testing.capture_logs() as captured:
            async with build_sinks(config, clock=clock) as sinks:
                await Dispatcher(
                    sqlite_store,
                    sinks,
                    worker="w",
                    clock=clock,
                    sleep=virtual_sleep(clock),
                    rng=random.Random(1),
                ).drain(wait=True)
            errors: list[str] = []
            for name in ("on-call", "genie"):
                try:
                    await send_test(config, name, clock=clock)
                except DeliveryError as exc:
                    errors.append(str(exc))
        log = structlog.get_logger("partnerlink.alerts")
        for entry in captured:
            fields = {k: v for k, v in entry.items() if k not in ("event", "log_level")}
            log.warning(entry["event"], **fields)
        bodies = " ".join(r.body.decode() for r in receiver.requests)

    assert ROUTING_KEY in bodies, "the key did go out, in the request"
    failed = [e for e in captured if e["event"] == "alert_delivery_failed"]
    assert {e["sink"] for e in failed} == {"on-call", "genie"}
    assert any("HTTP 400" in str(e["error"]) for e in failed)
    assert len(errors) == 2
    assert leaked(json.dumps(captured, default=str)) == []
    assert leaked(project_logging.getvalue()) == []
    assert leaked(" ".join(errors)) == []
    with sqlite_store.read() as s:
        from sqlalchemy import select

        from agent.store.alert_models import AlertDelivery, AlertOutbox

        stored = [r.last_error or "" for r in s.scalars(select(AlertOutbox))]
        stored += [d.error or "" for d in s.scalars(select(AlertDelivery))]
        stored += [r.payload for r in s.scalars(select(AlertOutbox))]
    assert leaked(" ".join(stored)) == []


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARTNERLINK_")}
    env["COLUMNS"] = "200"
    return subprocess.run(
        [sys.executable, "-m", "agent", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_cli_check_hides_the_keys_and_alerts_test_reaches_both_services(
    tmp_path: Path,
) -> None:
    with Receiver() as receiver:
        receiver.default = ACCEPTED
        (tmp_path / "partnerlink.toml").write_text(
            "[store]\n"
            f'data_dir = "{tmp_path / "data"}"\n'
            "[[alerts.sinks]]\n"
            'type = "pagerduty"\nname = "on-call"\nallow_private = true\n'
            f'url = "{receiver.url("/v2/enqueue")}"\nrouting_key = "{ROUTING_KEY}"\n'
            "[[alerts.sinks]]\n"
            'type = "opsgenie"\nname = "genie"\nallow_private = true\n'
            f'api_url = "{receiver.url("")}"\napi_key = "{GENIE_KEY}"\n',
            encoding="utf-8",
        )
        check = _cli("--config", "partnerlink.toml", "check", cwd=tmp_path)
        tested = [
            _cli("--config", "partnerlink.toml", "alerts", "test", "--sink", name, cwd=tmp_path)
            for name in ("on-call", "genie")
        ]

    assert check.returncode == 0, check.stderr
    shown = json.loads(check.stdout.split("\n", 1)[1])["alerts"]["sinks"]
    assert [s["type"] for s in shown] == ["pagerduty", "opsgenie"]
    assert shown[0]["routing_key"] == shown[1]["api_key"] == "**********"
    assert leaked(check.stdout + check.stderr) == []
    for done in tested:
        assert done.returncode == 0, done.stderr
        assert "status_code=202" in done.stdout
        assert leaked(done.stdout + done.stderr) == []
    pd, og = receiver.requests
    assert pd.json()["routing_key"] == ROUTING_KEY
    assert pd.json()["payload"]["custom_details"]["test"] == "true"
    assert og.headers["authorization"] == f"GenieKey {GENIE_KEY}"
    assert "test" in og.json()["tags"]
