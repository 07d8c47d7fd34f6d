"""The hostile names through every sink: Teams (Adaptive Card Markdown), Slack (mrkdwn), the
signed webhook, PagerDuty, Opsgenie and e-mail, each received by a real local server. First the
alerts a hostile world's audit planned (names cleaned where they entered), then messages built
straight from the raw names (the second fence alone: each sink's escaping)."""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
from collections import OrderedDict
from datetime import UTC, datetime
from typing import Any

import pytest

from agent.alerts import AlertsConfig, build_sinks
from agent.alerts.grouping import group_messages
from agent.alerts.message import Action, AlertItem, Message
from agent.alerts.sinks.incident import IncidentApiSink
from connectors.text import clean
from tests.alerts.support import Receiver, Reply, SmtpServer
from tests.hostile import inert
from tests.hostile.conftest import (
    GENIE_KEY,
    ROUTING_KEY,
    SMTP_PASSWORD,
    Estate,
    sink_of,
)
from tests.hostile.names import HOSTILE, SINGLE

NOW = datetime(2026, 11, 2, 3, 0, tzinfo=UTC)


def check_requests(requests: dict[str, list[Any]]) -> dict[str, list[Any]]:
    """Every payload by the rule of its format; the bodies, parsed, by sink."""
    bodies: dict[str, list[Any]] = {}
    for sink, received in requests.items():
        for request in received:
            body = request.json()
            bodies.setdefault(sink, []).append(body)
            where = f"{sink} {request.path}"
            if sink == "teams":
                (attachment,) = body["attachments"]
                inert.teams(attachment["content"], where)
                assert len(request.body) < 28_000, f"{where}: Teams refuses cards over ~28 KB"
            elif sink == "slack":
                inert.slack(body, where)
            elif sink == "webhook":
                inert.plain(request.body.decode("utf-8"), where)
            elif sink == "pagerduty":
                payload = body.get("payload", {})
                for value in [
                    payload.get("summary", ""),
                    *payload.get("custom_details", {}).values(),
                ]:
                    inert.plain(value, where)
            elif sink == "opsgenie":
                for key in ("message", "description", "entity", "note"):
                    inert.plain(body.get(key, ""), where)
                for value in body.get("details", {}).values():
                    inert.plain(value, where)
    return bodies


def test_every_planned_alert_is_delivered_and_inert_in_every_sink(estate: Estate) -> None:
    assert estate.outbox == {"sent": 18}, "3 messages (2 groups, 1 single) to each of 6 sinks"
    bodies = check_requests(estate.requests)
    fingerprints = {f.fingerprint for f in estate.findings}
    notified = {fp for body in bodies["webhook"] for fp in body["fingerprints"]}
    assert notified == fingerprints, "every finding reached the webhook"
    assert {b["dedup_key"] for b in bodies["pagerduty"]} == fingerprints
    assert {b["alias"] for b in bodies["opsgenie"]} == fingerprints
    assert len(bodies["teams"]) == len(bodies["slack"]) == 3
    subjects = []
    for mail in estate.mails:
        parsed = inert.mail(mail.data, "email")
        subjects.append(str(parsed["Subject"]))
    assert len(subjects) == 3
    single = next(s for s in subjects if "Bcc" in s)
    assert clean(HOSTILE[SINGLE]) in single, "the name, on the subject's one line"


# ------------------------------------------------------------------------------- raw names


def raw_items() -> list[tuple[AlertItem, Action]]:
    """Findings whose every text is a raw hostile name: nothing cleaned them on the way."""
    return [
        (
            AlertItem(
                fingerprint=f"fp{i:03d}",
                rule="link_missing",
                severity="high",
                status="open",
                title=f"No PAL link on azure for {name}",
                subject=name,
                customer_tenant_id=f"c{i:07d}-0000-4000-8000-{i:012d}",
                customer_name=name,
                link_kind="pal",
                remediation=f"Ask {name} to link the partner ID.",
                first_seen=NOW,
            ),
            Action.FIRST,
        )
        for i, name in enumerate(HOSTILE.values(), start=1)
    ]


def raw_messages() -> list[Message]:
    """Each raw finding alone (its title and customer lead the message), then all as a group."""
    items = raw_items()
    singles = [
        group_messages([pair], max_items=50, run_id=7, now=NOW, rule_titles={})[0] for pair in items
    ]
    grouped = group_messages(items, max_items=50, run_id=7, now=NOW)
    return [*singles, *grouped]


def sinks_config(receiver: Receiver, smtp: SmtpServer) -> AlertsConfig:
    return AlertsConfig.model_validate(
        {
            "sinks": [
                {
                    "type": "teams",
                    "name": "teams",
                    "allow_private": True,
                    "url": receiver.url(
                        "/workflows/abc/triggers/manual/paths/invoke?sig=SIG0123456"
                    ),
                },
                {
                    "type": "slack",
                    "name": "slack",
                    "allow_private": True,
                    "url": receiver.url("/services/T000/B000/XXXXslacktoken"),
                },
                {
                    "type": "webhook",
                    "name": "webhook",
                    "allow_private": True,
                    "url": receiver.url("/hook"),
                    "secret": "hmac-secret-0123456789abcdef",
                },
                {
                    "type": "pagerduty",
                    "name": "pagerduty",
                    "allow_private": True,
                    "url": receiver.url("/v2/enqueue"),
                    "routing_key": ROUTING_KEY,
                },
                {
                    "type": "opsgenie",
                    "name": "opsgenie",
                    "allow_private": True,
                    "api_url": receiver.url(""),
                    "api_key": GENIE_KEY,
                },
                {
                    "type": "email",
                    "name": "email",
                    "host": "127.0.0.1",
                    "port": smtp.port,
                    "username": "agent",
                    "password": SMTP_PASSWORD,
                    "sender": "agent@example.com",
                    "to": ["ops@example.com"],
                },
            ]
        }
    )


async def send_all(config: AlertsConfig, smtp: SmtpServer, messages: list[Message]) -> None:
    async with build_sinks(config, clock=lambda: NOW, ssl_context=smtp.client_ctx) as sinks:
        for message in messages:
            for sink in sinks.values():
                await sink.send(message)  # raises on any refusal: nothing may be lost


def test_raw_hostile_names_are_inert_in_every_sinks_payload(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(IncidentApiSink, "accepted", OrderedDict())
    messages = raw_messages()
    with Receiver() as receiver, SmtpServer(password=SMTP_PASSWORD) as smtp:
        receiver.default = Reply(202, b"ok")
        asyncio.run(send_all(sinks_config(receiver, smtp), smtp, messages))
        requests: dict[str, list[Any]] = {}
        for request in receiver.requests:
            requests.setdefault(sink_of(request.path), []).append(request)
        mails = list(smtp.mails)
    bodies = check_requests(requests)
    assert len(bodies["teams"]) == len(bodies["slack"]) == len(messages)
    assert len(bodies["pagerduty"]) == len(bodies["opsgenie"]) == 2 * len(HOSTILE)
    names = {item["customer_name"] for body in bodies["webhook"] for item in body["items"]}
    assert names == set(HOSTILE.values()), "the webhook carries the data as it is, in JSON"
    assert len(mails) == len(messages)
    for mail in mails:
        inert.mail(mail.data, "email")
    subjects = [
        str(email.message_from_bytes(m.data, policy=email.policy.default)["Subject"]) for m in mails
    ]
    assert any("Bcc: victim@example.com" in s for s in subjects), "shown, on the subject line"


def test_slack_header_stays_within_its_limit_however_many_brackets_a_name_has() -> None:
    from agent.alerts.sinks.slack import payload

    (item, action) = raw_items()[0]
    crowded = item.model_copy(update={"title": "<" * 400})
    message = group_messages([(crowded, action)], max_items=10, run_id=1, now=NOW)[0]
    header = payload(message)["blocks"][0]["text"]["text"]
    assert len(header) <= 150 and "<" not in header
    json.dumps(payload(message))
