"""A dismissal over several cycles, through the composition root with the fake connectors: a
GDAP relationship that will not auto-extend is dismissed as an accepted risk; it stays dismissed
while only its days left count down, and reopens when its end date moves (its condition
changed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agent.acting import act
from agent.app import Agent
from agent.audit.decisions import Act, Request
from agent.audit.lifecycle import CHANGED
from agent.config import load_settings
from tests.conftest import Clock
from tests.e2e.test_cycles import cycle, make_config, write_world
from tests.worlds import C1, C2, SUB1, SUB2, customer

WHO = "ana@partner.example"


def _world(folder: Path, ends: str) -> None:
    relationship = {
        "id": f"{C1}-rel",
        "status": "active",
        "ends": ends,
        "auto_extend_duration": "PT0S",
        "roles": ["729827e3-9c14-49f7-bb1b-9608f156bbb8"],
    }
    write_world(folder, customer(C1, SUB1, gdap=[relationship]), customer(C2, SUB2))


def _expiring(findings: dict[str, Any]) -> Any:
    [found] = [f for f in findings.values() if f.rule == "gdap_expiring"]
    return found


def test_a_dismissal_holds_while_the_days_count_down_and_ends_when_the_end_date_moves(
    tmp_path: Path, clock: Clock
) -> None:
    config = make_config(tmp_path)
    _world(tmp_path, "2026-11-30T00:00:00Z")
    _, _, findings = cycle(config, clock)
    expiring = _expiring(findings)
    assert expiring.status == "open"
    with Agent(load_settings(config), clock=clock) as agent:
        why = "customer is leaving at the end of November"
        dismissed = act(
            agent.store, expiring.fingerprint[:10], Request(Act.DISMISS, WHO, why), clock()
        )
        assert dismissed.status == "dismissed" and dismissed.accepted_condition

    _, audited, findings = cycle(config, clock)
    held = _expiring(findings)
    assert held.status == "dismissed", "a day less to go is the same condition"
    assert held.hits == 2 and held.fingerprint not in audited.new

    _world(tmp_path, "2026-12-01T00:00:00Z")
    _, audited, findings = cycle(config, clock)
    reopened = _expiring(findings)
    assert reopened.status == "open" and reopened.accepted_condition is None
    assert reopened.fingerprint in audited.new, "announced again"
    with Agent(load_settings(config), clock=clock) as agent:
        events = agent.store.finding_events(reopened.fingerprint)
    by_person = [(e.action, e.actor, e.note) for e in events if e.actor]
    assert by_person == [("dismiss", WHO, why)]
    assert (events[-1].from_status, events[-1].to_status, events[-1].note) == (
        "dismissed",
        "open",
        CHANGED,
    )


def test_a_dismissed_missing_link_is_still_a_gap_in_the_matrix(
    tmp_path: Path, clock: Clock
) -> None:
    config = make_config(tmp_path)
    write_world(tmp_path, customer(C1, SUB1, pal=None), customer(C2, SUB2))
    _, _, findings = cycle(config, clock)
    [missing] = [f for f in findings.values() if f.rule == "link_missing"]
    with Agent(load_settings(config), clock=clock) as agent:
        act(agent.store, missing.fingerprint, Request(Act.DISMISS, WHO, "no Azure work"), clock())
        gaps = [r for r in agent.matrix() if r.state == "missing"]
    assert [(r.customer_tenant_id, r.kind) for r in gaps] == [(C1, missing.link_kind)]
