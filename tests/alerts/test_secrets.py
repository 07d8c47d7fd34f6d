"""guarantee no-secrets-out for alerting: webhook URLs (``sig=``, Slack's path token), the HMAC secret, the SMTP
password and the heartbeat URL never reach a log line, an error message or the database."""

from __future__ import annotations

import io
import json
import random
from collections.abc import Iterator

import pytest
import structlog
from sqlalchemy import select

from agent.alerts.config import AlertsConfig
from agent.alerts.dispatcher import Dispatcher
from agent.alerts.errors import DeliveryError
from agent.alerts.grouping import group_messages
from agent.alerts.heartbeat import Heartbeat
from agent.alerts.message import Action, AlertItem
from agent.alerts.outbox import enqueue
from agent.alerts.probe import send_test
from agent.alerts.sinkset import build_sinks
from agent.store import Store
from agent.store.alert_models import AlertDelivery, AlertOutbox
from tests.alerts.conftest import HMAC_SECRET, SIG, SMTP_PASSWORD, local_sinks
from tests.alerts.support import Receiver, Reply, SmtpServer, virtual_sleep
from tests.conftest import T0, Clock
from tests.logs import project_logging as captured_logs

pytestmark = pytest.mark.anyio

SLACK_TOKEN = "XXXXslacktoken"
HEARTBEAT_TOKEN = "hb-0f3c9a71-secret-token"
PREVIOUS_HMAC_SECRET = "previous-hmac-0123456789abcdef"
SECRETS = (SIG, SLACK_TOKEN, HMAC_SECRET, PREVIOUS_HMAC_SECRET, SMTP_PASSWORD, HEARTBEAT_TOKEN)


def leaked(text: str) -> list[str]:
    return [s for s in SECRETS if s in text]


@pytest.fixture
def project_logging() -> Iterator[io.StringIO]:
    """The project's structlog set-up writing to a buffer (``tests.logs``)."""
    with captured_logs() as stream:
        yield stream


async def test_no_secret_in_logs_errors_or_the_database(
    sqlite_store: Store,
    clock: Clock,
    project_logging: io.StringIO,
) -> None:
    item = AlertItem(
        fingerprint="fp1", rule="link_missing", severity="high", status="open", title="PAL missing"
    )
    message = group_messages([(item, Action.FIRST)], max_items=10, run_id=1, now=T0)[0]
    with Receiver() as receiver, SmtpServer(password="another-password") as smtp:
        # Every HTTP sink is answered with its own URL and body echoed back, first as a 500
        # (retried), then as a 400 (dead); the SMTP server refuses the password.
        receiver.default = Reply(400, echo=True)
        receiver.script(*(Reply(500, echo=True) for _ in range(3)))
        sinks = local_sinks(receiver, smtp)
        for sink in sinks:  # the webhook is mid-rotation: signed with two keys
            if sink["type"] == "webhook":
                sink["previous_secret"] = PREVIOUS_HMAC_SECRET
        config = AlertsConfig.model_validate(
            {
                "sinks": sinks,
                "heartbeat_url": receiver.url(f"/ping/{HEARTBEAT_TOKEN}"),
                "heartbeat_allow_private": True,
            }
        )
        with sqlite_store.transaction() as tx:
            for sink in config.sinks:
                enqueue(tx.outbox, message, sink=sink.name, now=T0, run_id=1)
        with structlog.testing.capture_logs() as captured:
            async with build_sinks(config, clock=clock, ssl_context=smtp.client_ctx) as sinks:
                await Dispatcher(
                    sqlite_store,
                    sinks,
                    worker="w",
                    clock=clock,
                    sleep=virtual_sleep(clock),
                    rng=random.Random(1),
                ).drain(wait=True)
            await Heartbeat.from_config(config, sleep=virtual_sleep(clock)).fail("crashed")
            errors: list[str] = []
            for name in ("teams", "slack", "webhook"):
                try:
                    await send_test(config, name, clock=clock)
                except DeliveryError as exc:
                    errors.append(str(exc))
        # The same events once more through the project's real renderer and redactor.
        log = structlog.get_logger("partnerlink.alerts")
        for entry in captured:
            fields = {k: v for k, v in entry.items() if k not in ("event", "log_level")}
            log.warning(entry["event"], **fields)

    assert any(e["event"] == "alert_delivery_failed" for e in captured), "failures did happen"
    assert any(e["event"] == "heartbeat_failed" for e in captured)
    assert len(errors) == 3
    assert leaked(json.dumps(captured, default=str)) == []
    assert "alert_delivery_failed" in project_logging.getvalue()
    assert leaked(project_logging.getvalue()) == []
    assert leaked(" ".join(errors)) == []
    with sqlite_store.read() as s:
        stored = [r.last_error or "" for r in s.scalars(select(AlertOutbox))]
        stored += [d.error or "" for d in s.scalars(select(AlertDelivery))]
        payloads = [r.payload for r in s.scalars(select(AlertOutbox))]
    assert any("HTTP 400" in e for e in stored)
    assert leaked(" ".join(stored + payloads)) == []


async def test_both_webhook_signing_keys_are_redacted_if_anything_logs_them(
    project_logging: io.StringIO,
) -> None:
    with Receiver() as receiver:
        sinks = [s for s in local_sinks(receiver) if s["type"] == "webhook"]
        sinks[0]["previous_secret"] = PREVIOUS_HMAC_SECRET
        config = AlertsConfig.model_validate({"sinks": sinks})
        async with build_sinks(config, clock=Clock()):
            structlog.get_logger("partnerlink.alerts").warning(
                "oops", detail=f"key={HMAC_SECRET} old={PREVIOUS_HMAC_SECRET}"
            )
    logged = project_logging.getvalue()
    assert "oops" in logged
    assert leaked(logged) == []
