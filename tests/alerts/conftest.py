"""Fixtures of the alerting tests: anyio on asyncio, a local HTTP receiver, a local SMTP
server, and an alerts config whose sinks point at them (``allow_private``: tests only)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from agent.alerts.config import AlertsConfig
from tests.alerts.support import Receiver, SmtpServer

SIG = "SIGsecretValue0123456789"
HMAC_SECRET = "hmac-secret-0123456789abcdef"
SMTP_PASSWORD = "s3cret-smtp-pass"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as running:
        yield running


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    with SmtpServer(password=SMTP_PASSWORD) as running:
        yield running


def local_sinks(receiver: Receiver, smtp: SmtpServer | None = None) -> list[dict[str, Any]]:
    sinks: list[dict[str, Any]] = [
        {
            "type": "teams",
            "name": "teams",
            "allow_private": True,
            "url": receiver.url(
                f"/workflows/abc/triggers/manual/paths/invoke?api-version=1&sig={SIG}"
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
            "secret": HMAC_SECRET,
        },
    ]
    if smtp is not None:
        sinks.append(
            {
                "type": "email",
                "name": "email",
                "host": "127.0.0.1",
                "port": smtp.port,
                "username": "agent",
                "password": SMTP_PASSWORD,
                "sender": "agent@example.com",
                "to": ["ops@example.com"],
            }
        )
    return sinks


def config_for(receiver: Receiver, smtp: SmtpServer | None = None, **extra: Any) -> AlertsConfig:
    return AlertsConfig.model_validate({"sinks": local_sinks(receiver, smtp), **extra})
