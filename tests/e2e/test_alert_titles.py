"""The composition root hands the alert planning each rule's title from the rule registry (the
outbox itself knows nothing of the audit's rules)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from agent.app import Agent
from agent.config import load_settings
from tests.conftest import Clock
from tests.e2e.test_cycles import make_config, write_world
from tests.worlds import C1, C2, SUB1, SUB2, customer


def test_planned_messages_name_the_rule_by_its_registry_title(tmp_path: Path, clock: Clock) -> None:
    config = make_config(tmp_path, disappeared_after_runs=1)
    config.write_text(
        config.read_text() + '\n[[alerts.sinks]]\nname = "hook"\ntype = "webhook"\n'
        'url = "http://127.0.0.1:9/hook"\nsecret = "0123456789abcdef"\nallow_private = true\n'
    )
    for world in (
        (customer(C1, SUB1), customer(C2, SUB2)),
        (customer(C1, SUB1, pal=None), customer(C2, SUB2)),
    ):
        write_world(tmp_path, *world)
        clock.advance(days=1)
        with Agent(load_settings(config), clock=clock) as agent:
            agent.audit(agent.sync().run_id)  # planned, not delivered
    with Agent(load_settings(config), clock=clock) as agent:
        claims = agent.store.claim_outbox(worker="t", now=clock(), lease=timedelta(minutes=5))
    payloads = [json.loads(c.payload) for c in claims]
    assert [(p["rule"], p["rule_title"]) for p in payloads] == [
        ("link_disappeared", "Link disappeared")
    ]
