"""Each sink's payload against real local receivers: Teams card, Slack blocks, signed webhook,
e-mail over STARTTLS; and how each maps failures to transient or permanent."""

from __future__ import annotations

import email
import hashlib
import hmac
import smtplib
import ssl
from datetime import UTC, datetime
from email.message import Message as MailMessage

import pytest

from agent.alerts.config import AlertsConfig
from agent.alerts.errors import PermanentDeliveryError, TransientDeliveryError
from agent.alerts.grouping import group_messages
from agent.alerts.message import Action, AlertItem, Message
from agent.alerts.signing import SignatureError, verify
from agent.alerts.sinks import SINK_TYPES
from agent.alerts.sinks.email import smtp_error
from agent.alerts.sinkset import build_sinks
from tests.alerts.conftest import HMAC_SECRET, SIG, config_for
from tests.alerts.support import Receiver, Reply, SmtpServer

pytestmark = pytest.mark.anyio

NOW = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)


def clock() -> datetime:
    return NOW


def items(n: int) -> list[tuple[AlertItem, Action]]:
    return [
        (
            AlertItem(
                fingerprint=f"fp{i:03d}",
                rule="link_missing",
                severity="high",
                status="open",
                title=f"PAL missing <b>{i}</b> & more",
                customer_tenant_id=f"tenant-{i}",
                customer_name=f"Customer {i}",
                remediation="Link the partner ID.",
            ),
            Action.FIRST,
        )
        for i in range(n)
    ]


def group(n: int = 25) -> Message:
    return group_messages(
        items(n), max_items=10, run_id=4, now=NOW, rule_titles={"link_missing": "Link missing"}
    )[0]


def single() -> Message:
    return group_messages(items(1), max_items=10, run_id=4, now=NOW)[0]


def test_registry_lists_one_class_per_type() -> None:
    assert set(SINK_TYPES) == {
        *("teams", "slack", "webhook", "email", "pagerduty", "opsgenie"),
        *("connectwise", "autotask", "halopsa"),
    }
    assert all(SINK_TYPES[name].kind == name for name in SINK_TYPES)


async def test_teams_gets_an_adaptive_card_1_4_in_the_workflows_envelope(
    receiver: Receiver,
) -> None:
    receiver.default = Reply(202, b"")
    async with build_sinks(config_for(receiver), clock=clock) as sinks:
        result = await sinks["teams"].send(group())
    assert result.status_code == 202
    (request,) = receiver.requests
    assert request.path.startswith("/workflows/")
    assert f"sig={SIG}" in request.path
    assert request.headers["content-type"] == "application/json"
    envelope = request.json()
    assert envelope["type"] == "message"
    (attachment,) = envelope["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard"
    assert card["version"] == "1.4"
    assert card["$schema"] == "http://adaptivecards.io/schemas/adaptive-card.json"
    texts = [b.get("text", "") for b in card["body"] if b["type"] == "TextBlock"]
    assert texts[0] == "25 new findings: Link missing"
    assert "and 15 more" in texts
    container = next(b for b in card["body"] if b["type"] == "Container")
    assert len(container["items"]) == 10
    facts = next(b for b in card["body"] if b["type"] == "FactSet")["facts"]
    assert {"title": "Findings", "value": "25"} in facts
    assert len(request.body) < 28_000, "Teams refuses cards over ~28 KB"


async def test_slack_gets_blocks_and_a_fallback_text(receiver: Receiver) -> None:
    async with build_sinks(config_for(receiver), clock=clock) as sinks:
        await sinks["slack"].send(group())
    (request,) = receiver.requests
    assert request.path == "/services/T000/B000/XXXXslacktoken"
    body = request.json()
    assert body["text"].startswith("[partnerlink] 25 new findings")
    types = [b["type"] for b in body["blocks"]]
    assert types[0] == "header"
    assert "section" in types
    assert types[-1] == "context"
    assert len(body["blocks"]) <= 50
    assert len(body["blocks"][0]["text"]["text"]) <= 150
    listing = body["blocks"][2]["text"]["text"]
    assert listing.count("•") == 10
    assert "&lt;b&gt;" in listing, "mrkdwn control characters escaped"
    assert "&amp;" in listing
    assert any("and 15 more" in str(b) for b in body["blocks"])


async def test_webhook_signs_timestamp_and_body_and_carries_an_idempotency_key(
    receiver: Receiver,
) -> None:
    async with build_sinks(config_for(receiver), clock=clock) as sinks:
        await sinks["webhook"].send(single())
    (request,) = receiver.requests
    timestamp = int(NOW.timestamp())
    assert request.headers["x-partnerlink-timestamp"] == str(timestamp)
    signed = f"{timestamp}.".encode() + request.body
    expected = hmac.new(HMAC_SECRET.encode(), signed, hashlib.sha256).hexdigest()
    assert request.headers["x-partnerlink-signature"] == f"v1={expected}"
    assert verify(HMAC_SECRET, request.headers, request.body, now=NOW.timestamp()) == timestamp
    with pytest.raises(SignatureError, match="does not match"):
        verify("another-secret-0123456", request.headers, request.body, now=NOW.timestamp())
    assert request.headers["idempotency-key"] == "fp000:first:r4"
    body = request.json()
    assert body["dedup_key"] == "fp000"
    assert body["kind"] == "first"
    assert body["version"] == 1
    assert body["items"][0]["customer_tenant_id"] == "tenant-0"


async def test_email_goes_over_starttls_with_login_as_plain_text_and_html(
    receiver: Receiver,
    smtp_server: SmtpServer,
) -> None:
    config = config_for(receiver, smtp_server)
    async with build_sinks(config, clock=clock, ssl_context=smtp_server.client_ctx) as sinks:
        result = await sinks["email"].send(group())
    assert result.status_code == 250
    (mail,) = smtp_server.mails
    assert mail.tls, "never in clear"
    assert mail.auth == ("agent", "s3cret-smtp-pass")
    assert mail.recipients == ["ops@example.com"]
    parsed = email.message_from_bytes(mail.data)
    assert parsed["Subject"] == "[partnerlink] 25 new findings: Link missing"
    assert parsed["X-Partnerlink-Dedup-Key"] == group().dedup_key
    kinds = [
        part.get_content_type()
        for part in parsed.walk()
        if isinstance(part, MailMessage) and not part.is_multipart()
    ]
    assert kinds == ["text/plain", "text/html"]
    html = next(p for p in parsed.walk() if p.get_content_type() == "text/html")
    payload = html.get_payload(decode=True)
    assert isinstance(payload, bytes)
    assert b"&lt;b&gt;" in payload
    assert b"and 15 more" in payload


async def test_email_refuses_a_server_without_starttls(receiver: Receiver) -> None:
    with SmtpServer(offer_starttls=False) as plain:
        config = config_for(receiver, plain)
        async with build_sinks(config, clock=clock, ssl_context=plain.client_ctx) as sinks:
            with pytest.raises(PermanentDeliveryError, match="STARTTLS"):
                await sinks["email"].send(single())
        assert plain.mails == []


async def test_email_with_a_wrong_password_is_permanent(receiver: Receiver) -> None:
    with SmtpServer(password="the-real-password") as server:
        config = config_for(receiver, server)
        async with build_sinks(config, clock=clock, ssl_context=server.client_ctx) as sinks:
            with pytest.raises(PermanentDeliveryError, match="authentication") as caught:
                await sinks["email"].send(single())
    assert "s3cret-smtp-pass" not in str(caught.value)


async def test_email_to_a_closed_port_is_transient() -> None:
    with SmtpServer() as server:
        port = server.port
    config = AlertsConfig.model_validate(
        {
            "sinks": [
                {
                    "type": "email",
                    "name": "email",
                    "host": "127.0.0.1",
                    "port": port,
                    "sender": "a@example.com",
                    "to": ["b@example.com"],
                    "timeout": 2,
                }
            ]
        }
    )
    async with build_sinks(config, clock=clock) as sinks:
        with pytest.raises(TransientDeliveryError):
            await sinks["email"].send(single())


def test_smtp_reply_codes_map_to_transient_and_permanent() -> None:
    assert isinstance(smtp_error(smtplib.SMTPDataError(451, b"try later")), TransientDeliveryError)
    assert isinstance(smtp_error(smtplib.SMTPDataError(554, b"rejected")), PermanentDeliveryError)
    assert isinstance(
        smtp_error(smtplib.SMTPRecipientsRefused({"a@x": (450, b"busy")})), TransientDeliveryError
    )
    assert isinstance(
        smtp_error(smtplib.SMTPRecipientsRefused({"a@x": (550, b"no")})), PermanentDeliveryError
    )
    assert isinstance(smtp_error(smtplib.SMTPServerDisconnected()), TransientDeliveryError)
    assert isinstance(smtp_error(ssl.SSLCertVerificationError()), PermanentDeliveryError)


@pytest.mark.parametrize(
    ("reply", "error", "retry_after"),
    [
        (Reply(500, b"boom"), TransientDeliveryError, None),
        (Reply(503, b"", {"Retry-After": "7"}), TransientDeliveryError, 7.0),
        (Reply(429, b"slow down", {"Retry-After": "2.5"}), TransientDeliveryError, 2.5),
        (Reply(400, b"invalid_payload"), PermanentDeliveryError, None),
        (Reply(404, b"no_service"), PermanentDeliveryError, None),
        (Reply(301, b"", {"Location": "http://127.0.0.1:1/"}), PermanentDeliveryError, None),
    ],
)
async def test_http_answers_map_to_transient_or_permanent(
    receiver: Receiver,
    reply: Reply,
    error: type[Exception],
    retry_after: float | None,
) -> None:
    receiver.default = reply
    async with build_sinks(config_for(receiver), clock=clock) as sinks:
        with pytest.raises(error) as caught:
            await sinks["slack"].send(single())
    assert len(receiver.requests) == 1, "no redirect followed, no hidden retry"
    if retry_after is not None:
        assert isinstance(caught.value, TransientDeliveryError)
        assert caught.value.retry_after == retry_after


async def test_an_unreachable_receiver_is_transient() -> None:
    with Receiver() as gone:
        config = config_for(gone)
    async with build_sinks(config, clock=clock) as sinks:
        with pytest.raises(TransientDeliveryError, match="connection failed"):
            await sinks["webhook"].send(single())
