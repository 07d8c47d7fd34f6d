"""``partnerlink alerts test --sink NAME``: a sample message through the real sink."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from agent.alerts.config import UnknownSink
from agent.alerts.errors import PermanentDeliveryError
from agent.alerts.probe import send_test
from tests.alerts.conftest import config_for
from tests.alerts.support import Receiver, Reply, SmtpServer

pytestmark = pytest.mark.anyio

NOW = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)


async def test_send_test_delivers_a_labelled_sample_through_each_sink(
    receiver: Receiver,
    smtp_server: SmtpServer,
) -> None:
    config = config_for(receiver, smtp_server)
    for name in ("teams", "slack", "webhook"):
        result = await send_test(config, name, clock=lambda: NOW)
        assert result.status_code == 200
    await send_test(config, "email", clock=lambda: NOW, ssl_context=smtp_server.client_ctx)
    teams, slack, webhook = (r.json() for r in receiver.requests)
    assert (
        teams["attachments"][0]["content"]["body"][0]["text"]
        == "Test notification from partnerlink"
    )
    assert "Test notification" in slack["text"]
    assert webhook["test"] is True
    assert webhook["rule"] == "test"
    assert b"Test notification from partnerlink" in smtp_server.mails[0].data


async def test_send_test_reports_the_sinks_refusal(receiver: Receiver) -> None:
    receiver.default = Reply(403, b"forbidden")
    with pytest.raises(PermanentDeliveryError, match="HTTP 403"):
        await send_test(config_for(receiver), "slack", clock=lambda: NOW)


async def test_send_test_names_the_configured_sinks_for_an_unknown_name(
    receiver: Receiver,
) -> None:
    with pytest.raises(UnknownSink, match="teams, slack, webhook"):
        await send_test(config_for(receiver), "pager", clock=lambda: NOW)
