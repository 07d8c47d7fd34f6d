"""Exactly-once alerting end to end: real cycles through the composition root, a real local
webhook receiver, a fresh process (Agent) every night, and the outbox in the database (guarantees durable-state, dedup-and-repeat, resolve-once, outbox)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agent.alerts.signing import verify
from agent.app import Agent
from agent.config import load_settings
from tests.alerts.support import Receiver
from tests.conftest import Clock
from tests.e2e.test_cycles import make_config, write_world
from tests.worlds import C1, C2, SUB1, SUB2, customer

SECRET = "webhook-secret-0123456789"
PRESENT = (customer(C1, SUB1), customer(C2, SUB2))
PAL_GONE = (customer(C1, SUB1, pal=None), customer(C2, SUB2))


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    running.thread.start()
    try:
        yield running
    finally:
        running.server.shutdown()
        running.server.server_close()


def _config(folder: Path, receiver: Receiver) -> Path:
    config = make_config(folder)  # K = 2 before opening a disappearance and before resolving
    config.write_text(
        config.read_text()
        + (
            '\n[alerts]\nrepeat_interval = "7d"\n'
            "\n[[alerts.sinks]]\n"
            'name = "ops-webhook"\ntype = "webhook"\n'
            f'url = "{receiver.url("/hook")}"\nsecret = "{SECRET}"\nallow_private = true\n'
        )
    )
    return config


def _night(config: Path, clock: Clock, *world: dict[str, Any]) -> None:
    """One night: a new process syncs, audits and delivers."""
    write_world(config.parent, *world)
    clock.advance(days=1)
    with Agent(load_settings(config), clock=clock) as agent:
        synced, audited = agent.cycle(trigger="schedule")
        assert audited is not None, synced


def _messages(receiver: Receiver) -> list[dict[str, Any]]:
    out = []
    for request in receiver.requests:
        # Signed at delivery time by the agent's clock; freshness is checked in the unit tests.
        sent = int(request.headers["x-partnerlink-timestamp"])
        assert verify(SECRET, request.headers, request.body, now=sent) == sent
        out.append(json.loads(request.body))
    return out


def test_one_alert_per_new_finding_none_repeated_one_resolve_across_restarts(
    tmp_path: Path, receiver: Receiver, clock: Clock
) -> None:
    config = _config(tmp_path, receiver)
    _night(config, clock, *PRESENT)
    assert receiver.requests == [], "a healthy world says nothing"

    _night(config, clock, *PAL_GONE)
    assert receiver.requests == [], (
        "absent in one run: pending, nothing sent (guarantee confirm-k-runs)"
    )

    _night(config, clock, *PAL_GONE)
    [first] = _messages(receiver)
    assert first["rule"] == "link_disappeared" and first["kind"] == "first"
    assert first["fingerprints"] and first["items"][0]["customer_tenant_id"] == C1
    key = receiver.requests[0].headers["idempotency-key"]

    for _ in range(3):  # the condition persists: nothing more within the repeat interval
        _night(config, clock, *PAL_GONE)
    with Agent(load_settings(config), clock=clock) as agent:  # auditing again sends nothing
        agent.audit()
        agent.deliver_alerts()
    assert len(receiver.requests) == 1, (
        "no repeat within the interval, across restarts (guarantee dedup-and-repeat)"
    )

    for _ in range(4):  # the seventh night after the first message: the interval is over
        _night(config, clock, *PAL_GONE)
    assert [m["kind"] for m in _messages(receiver)] == ["first", "repeat"], "one repeat"

    _night(config, clock, *PRESENT)  # cleared once: not yet resolved (K = 2)
    assert len(receiver.requests) == 2
    _night(config, clock, *PRESENT)
    messages = _messages(receiver)
    assert [m["kind"] for m in messages] == ["first", "repeat", "resolved"]
    assert messages[2]["fingerprints"] == first["fingerprints"], (
        "same dedup key (guarantee resolve-once)"
    )
    assert len({r.headers["idempotency-key"] for r in receiver.requests}) == 3
    assert key == receiver.requests[0].headers["idempotency-key"]

    _night(config, clock, *PRESENT)
    assert len(receiver.requests) == 3, "exactly one resolve"
