"""End to end over several cycles, through the composition root with the fake connectors:
a link present → missing → restored, and the findings' life along it (guarantees confirm-k-runs, durable-state)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from agent.app import Agent
from agent.config import load_settings
from agent.store.models import FindingEvent
from tests.conftest import Clock
from tests.worlds import C1, C2, SUB1, SUB2, customer, world_dict


def write_world(
    folder: Path, *customers: dict[str, Any], faults: list[dict[str, Any]] | None = None
) -> None:
    (folder / "world.json").write_text(json.dumps(world_dict(*customers, faults=faults)))


def make_config(folder: Path, **audit: int) -> Path:
    lines = [
        "[partner]",
        'tenant_id = "7a11ce00-0000-4000-8000-000000000001"',
        'global_partner_id = "4100001"',
        "[[partner.locations]]",
        'partner_id = "4100002"',
        'link_kinds = ["pal", "cpor", "dpor"]',
        "[sources]",
        'mode = "fake"',
        'scenario = "world.json"',
        "[store]",
        'data_dir = "."',
        "[audit]",
        *(f"{k} = {v}" for k, v in audit.items()),
    ]
    path = folder / "partnerlink.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def cycle(config: Path, clock: Clock) -> Any:
    clock.advance(days=1)
    with Agent(load_settings(config), clock=clock) as agent:
        synced, audited = agent.cycle()
        assert audited is not None
        findings = {f.fingerprint: f for f in agent.store.findings()}
        return synced, audited, findings


def disappeared(findings: dict[str, Any]) -> list[Any]:
    return [f for f in findings.values() if f.rule == "link_disappeared"]


PRESENT = (customer(C1, SUB1), customer(C2, SUB2))
PAL_GONE = (customer(C1, SUB1, pal=None), customer(C2, SUB2))


def test_link_present_missing_restored_new_ongoing_resolved(tmp_path: Path, clock: Clock) -> None:
    config = make_config(tmp_path, disappeared_after_runs=1, resolve_after_runs=1)
    write_world(tmp_path, *PRESENT)
    _, audited, findings = cycle(config, clock)
    assert disappeared(findings) == []

    write_world(tmp_path, *PAL_GONE)
    _, audited, findings = cycle(config, clock)
    [gone] = disappeared(findings)
    assert gone.status == "open"
    assert gone.fingerprint in audited.new
    assert gone.customer_tenant_id == C1
    assert gone.link_kind == "pal"
    assert "removed" in gone.title

    _, audited, findings = cycle(config, clock)
    [still] = disappeared(findings)
    assert still.status == "open"
    assert still.hits == 2
    assert audited.new == []
    assert still.first_seen == gone.first_seen

    write_world(tmp_path, *PRESENT)
    _, audited, findings = cycle(config, clock)
    [resolved] = disappeared(findings)
    assert resolved.status == "resolved"
    assert resolved.fingerprint in audited.resolved


def test_absent_in_one_run_is_only_pending_and_reappearing_withdraws_it(
    tmp_path: Path, clock: Clock
) -> None:
    """guarantee confirm-k-runs: one miss gives a pending finding; back before K: never open, never resolved-notified."""
    config = make_config(tmp_path)  # K = 2
    write_world(tmp_path, *PRESENT)
    cycle(config, clock)
    write_world(tmp_path, *PAL_GONE)
    _, audited, findings = cycle(config, clock)
    [pending] = disappeared(findings)
    assert pending.status == "pending"
    assert audited.new == []
    write_world(tmp_path, *PRESENT)
    _, audited, findings = cycle(config, clock)
    [withdrawn] = disappeared(findings)
    assert withdrawn.status == "resolved"
    assert audited.resolved == []
    with Agent(load_settings(config), clock=clock) as agent:
        statuses = [e.to_status for e in agent.store.finding_events(withdrawn.fingerprint)]
    assert statuses == ["pending", "resolved"], "it was never open, so nothing was announced"


def test_incomplete_runs_neither_advance_nor_reset_the_counter(
    tmp_path: Path, clock: Clock
) -> None:
    """guarantees confirm-k-runs, durable-state: miss 1, then a run where the PAL read fails, then miss 2 (a new process)."""
    config = make_config(tmp_path)
    write_world(tmp_path, *PRESENT)
    cycle(config, clock)
    write_world(tmp_path, *PAL_GONE)
    cycle(config, clock)
    write_world(tmp_path, *PAL_GONE, faults=[{"source": "arm.pal", "scope": C1, "status": 403}])
    _, audited, findings = cycle(config, clock)
    [pending] = disappeared(findings)
    assert pending.status == "pending", "a failed read does not confirm the disappearance"
    [blind] = [f for f in findings.values() if f.rule == "cannot_verify"]
    assert blind.customer_tenant_id is None, "one finding for the estate, naming the customers"
    assert [u["customer"] for u in json.loads(blind.evidence)["failures"]] == [C1]
    write_world(tmp_path, *PAL_GONE)
    _, audited, findings = cycle(config, clock)  # a fresh Agent: state came from the database
    [confirmed] = disappeared(findings)
    assert confirmed.status == "open"
    assert audited.new == [confirmed.fingerprint]
    with Agent(load_settings(config), clock=clock) as agent:
        opened = [
            e for e in agent.store.finding_events(confirmed.fingerprint) if e.to_status == "open"
        ]
    assert len(opened) == 1


def test_second_audit_of_the_same_run_changes_nothing(tmp_path: Path, clock: Clock) -> None:
    """guarantee idempotent-sync: auditing twice creates no findings and counts nothing twice."""
    config = make_config(tmp_path)
    write_world(tmp_path, *PAL_GONE)
    _, first, findings = cycle(config, clock)
    assert first.new
    with Agent(load_settings(config), clock=clock) as agent:
        again = agent.audit()
        after = {f.fingerprint: (f.status, f.hits, f.clears) for f in agent.store.findings()}
    assert again.new == []
    assert again.resolved == []
    assert after == {fp: (f.status, f.hits, f.clears) for fp, f in findings.items()}


def test_finding_events_record_every_transition(tmp_path: Path, clock: Clock) -> None:
    config = make_config(tmp_path, disappeared_after_runs=1, resolve_after_runs=1)
    write_world(tmp_path, *PRESENT)
    cycle(config, clock)
    write_world(tmp_path, *PAL_GONE)
    _, _, findings = cycle(config, clock)
    [gone] = disappeared(findings)
    with Agent(load_settings(config), clock=clock) as agent:
        events: list[FindingEvent] = agent.store.finding_events(gone.fingerprint)
    assert [e.to_status for e in events] == ["open"]
    write_world(tmp_path, *PRESENT)
    cycle(config, clock)
    with Agent(load_settings(config), clock=clock) as agent:
        events = agent.store.finding_events(gone.fingerprint)
    assert [(e.from_status, e.to_status) for e in events] == [(None, "open"), ("open", "resolved")]
