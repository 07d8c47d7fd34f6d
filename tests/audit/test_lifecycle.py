"""The engine's finding lifecycle over real cycles (fake connectors, a fresh Agent each night,
state only in the database): the mass-disappearance guard (guarantee mass-loss-guard), hysteresis before opening (guarantees confirm-k-runs, durable-state) and before resolving (guarantee resolve-once)."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from agent.app import Agent
from agent.audit.engine import Auditor
from agent.audit.outcome import AuditOutcome
from agent.config import load_settings
from agent.store.models import Finding
from tests.conftest import Clock
from tests.e2e.test_cycles import make_config, write_world
from tests.worlds import C1, C2, SUB1, SUB2, customer


def _tenant(n: int) -> str:
    return f"c{n:07d}-0000-4000-8000-{n:012d}"


def _sub(n: int) -> str:
    return f"5{n:07d}-0000-4000-8000-{n:012d}"


ESTATE = 25
"""Customers, each with our PAL on its one Azure subscription."""


def _estate(lose: int = 0) -> list[dict[str, Any]]:
    """The estate, with the PAL of the first ``lose`` customers removed."""
    return [
        customer(_tenant(n), _sub(n), pal=None if n < lose else "4100002") for n in range(ESTATE)
    ]


@dataclass
class Night:
    audited: AuditOutcome
    findings: dict[str, Finding]
    events: dict[str, list[tuple[str | None, str, str | None]]]

    def rule(self, rule: str) -> list[Finding]:
        return [f for f in self.findings.values() if f.rule == rule]

    def status(self, rule: str) -> list[str]:
        return sorted({f.status for f in self.rule(rule)})

    def transitions(self, rule: str) -> set[tuple[tuple[str | None, str], ...]]:
        """The distinct (from, to) histories of the rule's findings."""
        return {tuple((a, b) for a, b, _ in self.events[f.fingerprint]) for f in self.rule(rule)}


def night(
    config: Path,
    clock: Clock,
    world: list[dict[str, Any]],
    faults: list[dict[str, Any]] | None = None,
    **context: Any,
) -> Night:
    """One night in a new process: sync the world, audit it with the context's overrides."""
    write_world(config.parent, *world, faults=faults)
    clock.advance(days=1)
    with Agent(load_settings(config), clock=clock) as agent:
        synced = agent.sync()
        auditor = Auditor(
            agent.store,
            lambda now, run: replace(agent.audit_context(now, run), **context),
            clock=clock,
        )
        audited = auditor.run(synced.run_id)
        findings = {f.fingerprint: f for f in agent.store.findings()}
        events = {
            fp: [(e.from_status, e.to_status, e.note) for e in agent.store.finding_events(fp)]
            for fp in findings
        }
    return Night(audited, findings, events)


# ------------------------------------------------------------------------------------------
# guarantee mass-loss-guard: the mass-disappearance guard


def test_twenty_customers_losing_pal_at_once_are_suspect_with_one_source_anomaly(
    tmp_path: Path,
    clock: Clock,
) -> None:
    config = make_config(tmp_path, disappeared_after_runs=1)  # would open at once unguarded
    night(config, clock, _estate())

    held = night(config, clock, _estate(lose=20))

    assert len(held.rule("link_disappeared")) == 20
    assert held.status("link_disappeared") == ["suspect"]
    [anomaly] = held.rule("source_anomaly")
    assert anomaly.status == "open"
    assert anomaly.customer_tenant_id is None
    assert "20 of 25 PAL links (80 %) vanished in one run" in anomaly.title
    assert held.audited.new == [anomaly.fingerprint], "only the anomaly is announced"
    assert len(held.audited.suspect) == 20
    assert all(
        e[1] != "open" for f in held.rule("link_disappeared") for e in held.events[f.fingerprint]
    )
    evidence = json.loads(held.rule("link_disappeared")[0].evidence)
    assert evidence["held_because"] == "20 of 25 PAL links (80 %) vanished in one run"

    confirmed = night(config, clock, _estate(lose=20))

    assert confirmed.status("link_disappeared") == ["open"]
    assert confirmed.transitions("link_disappeared") == {((None, "suspect"), ("suspect", "open"))}
    assert sorted(confirmed.audited.new) == sorted(
        f.fingerprint for f in confirmed.rule("link_disappeared")
    )
    assert confirmed.rule("source_anomaly")[0].status == "resolved"
    assert confirmed.audited.resolved == [anomaly.fingerprint], "resolved at the calm run"


def test_links_that_come_back_the_next_night_are_withdrawn_never_announced(
    tmp_path: Path,
    clock: Clock,
) -> None:
    config = make_config(tmp_path)  # K = 2
    night(config, clock, _estate())
    held = night(config, clock, _estate(lose=20))
    assert held.status("link_disappeared") == ["suspect"]

    back = night(config, clock, _estate())

    assert back.status("link_disappeared") == ["resolved"]
    assert back.transitions("link_disappeared") == {((None, "suspect"), ("suspect", "resolved"))}
    assert {
        n for f in back.rule("link_disappeared") for *_, n in back.events[f.fingerprint][1:]
    } == {"withdrawn: it came back after the source anomaly"}
    assert back.audited.new == []
    assert len(back.audited.withdrawn) == 20
    assert back.audited.resolved == [back.rule("source_anomaly")[0].fingerprint]


def test_with_k_two_the_calm_night_after_the_anomaly_confirms_them(
    tmp_path: Path,
    clock: Clock,
) -> None:
    config = make_config(tmp_path)  # K = 2: the anomaly night counted the first miss
    night(config, clock, _estate())
    night(config, clock, _estate(lose=20))

    confirmed = night(config, clock, _estate(lose=20))

    assert confirmed.status("link_disappeared") == ["open"]
    assert confirmed.transitions("link_disappeared") == {((None, "suspect"), ("suspect", "open"))}


def test_a_few_losses_are_ordinary_and_open_as_usual(tmp_path: Path, clock: Clock) -> None:
    config = make_config(tmp_path, disappeared_after_runs=1)
    night(config, clock, _estate())

    ordinary = night(config, clock, _estate(lose=3))  # 12 %: under the 20 % threshold

    assert ordinary.status("link_disappeared") == ["open"]
    assert ordinary.rule("source_anomaly") == []
    assert ordinary.audited.anomalies == []


def test_mass_disappearance_percent_is_the_threshold(tmp_path: Path, clock: Clock) -> None:
    config = make_config(tmp_path, disappeared_after_runs=1)
    night(config, clock, _estate(), mass_disappearance_percent=10.0)

    held = night(config, clock, _estate(lose=3), mass_disappearance_percent=10.0)

    assert held.status("link_disappeared") == ["suspect"]
    assert len(held.rule("source_anomaly")) == 1


def test_a_source_that_suddenly_returns_nothing_holds_its_disappearances(
    tmp_path: Path,
    clock: Clock,
) -> None:
    """Two customers only (under the share's minimum), but the insight reports, which had rows
    last night, return none at all: the lost CPOR seats are held, one anomaly is raised."""
    config = make_config(tmp_path, disappeared_after_runs=1)
    with_reports = [customer(C1, SUB1), customer(C2, SUB2)]
    no_reports = [customer(C1, SUB1, attribution=[]), customer(C2, SUB2, attribution=[])]
    night(config, clock, with_reports)

    held = night(config, clock, no_reports)

    cpor = [f for f in held.rule("link_disappeared") if f.link_kind == "cpor"]
    assert len(cpor) == 2
    assert {f.status for f in cpor} == {"suspect"}
    [anomaly] = held.rule("source_anomaly")
    assert "insights.attribution returned nothing this run" in anomaly.title

    still = night(config, clock, no_reports)  # zero again is no longer news: they open

    assert {still.findings[f.fingerprint].status for f in cpor} == {"open"}
    assert still.rule("source_anomaly")[0].status == "resolved"


def test_auditing_the_anomaly_run_again_changes_nothing(tmp_path: Path, clock: Clock) -> None:
    config = make_config(tmp_path, disappeared_after_runs=1)
    night(config, clock, _estate())
    held = night(config, clock, _estate(lose=20))

    with Agent(load_settings(config), clock=clock) as agent:
        again = agent.audit()
        after = {f.fingerprint: (f.status, f.hits) for f in agent.store.findings()}
        events = sum(len(agent.store.finding_events(fp)) for fp in after)

    assert [a.name for a in again.anomalies] == ["pal"], "the same run, the same verdict"
    assert again.new == [] and again.resolved == []
    assert after == {fp: (f.status, f.hits) for fp, f in held.findings.items()}
    assert events == sum(len(e) for e in held.events.values())


# ------------------------------------------------------------------------------------------
# guarantees confirm-k-runs, durable-state: hysteresis before opening


NO_PAL = [customer(C1, SUB1, pal=None), customer(C2, SUB2)]
PAL_SET = [customer(C1, SUB1), customer(C2, SUB2)]
PAL_UNREADABLE = [{"source": "arm.pal", "scope": C1, "status": 403}]


def test_open_after_runs_keeps_a_condition_pending_until_its_kth_evaluated_run(
    tmp_path: Path,
    clock: Clock,
) -> None:
    config = make_config(tmp_path)
    first = night(config, clock, NO_PAL, open_after_runs=3)
    [missing] = first.rule("link_missing")
    assert (missing.status, missing.hits) == ("pending", 1)
    assert first.audited.new == []

    # An unreadable night neither advances nor resets the count (guarantee confirm-k-runs).
    blind = night(config, clock, NO_PAL, faults=PAL_UNREADABLE, open_after_runs=3)
    assert (
        blind.findings[missing.fingerprint].status,
        blind.findings[missing.fingerprint].hits,
    ) == ("pending", 1)

    second = night(config, clock, NO_PAL, open_after_runs=3)
    assert (
        second.findings[missing.fingerprint].status,
        second.findings[missing.fingerprint].hits,
    ) == ("pending", 2)

    third = night(
        config, clock, NO_PAL, open_after_runs=3
    )  # each night a new process (guarantee durable-state)
    assert third.findings[missing.fingerprint].status == "open"
    assert third.audited.new == [missing.fingerprint]
    assert [b for _, b, _ in third.events[missing.fingerprint]] == ["pending", "open"]


def test_default_open_after_runs_opens_a_missing_link_at_once(tmp_path: Path, clock: Clock) -> None:
    config = make_config(tmp_path)
    first = night(config, clock, NO_PAL)

    [missing] = first.rule("link_missing")
    assert missing.status == "open"
    assert first.audited.new == [missing.fingerprint]


def test_pending_condition_that_clears_is_withdrawn_without_a_word(
    tmp_path: Path,
    clock: Clock,
) -> None:
    config = make_config(tmp_path)
    night(config, clock, NO_PAL, open_after_runs=2)

    cleared = night(config, clock, PAL_SET, open_after_runs=2)

    [missing] = cleared.rule("link_missing")
    assert missing.status == "resolved"
    assert cleared.events[missing.fingerprint] == [
        (None, "pending", None),
        ("pending", "resolved", "withdrawn before it was confirmed"),
    ]
    assert cleared.audited.resolved == []
    assert cleared.audited.withdrawn == [missing.fingerprint]


# ------------------------------------------------------------------------------------------
# guarantee resolve-once: hysteresis before resolving


def test_open_finding_resolves_once_after_k_cleared_runs_that_were_judged(
    tmp_path: Path,
    clock: Clock,
) -> None:
    config = make_config(tmp_path)  # resolve_after_runs = 2
    [missing] = night(config, clock, NO_PAL).rule("link_missing")

    once = night(config, clock, PAL_SET)
    assert (
        once.findings[missing.fingerprint].status,
        once.findings[missing.fingerprint].clears,
    ) == ("open", 1)

    blind = night(config, clock, PAL_SET, faults=PAL_UNREADABLE)  # proves nothing
    assert (
        blind.findings[missing.fingerprint].status,
        blind.findings[missing.fingerprint].clears,
    ) == ("open", 1)

    twice = night(config, clock, PAL_SET)
    assert twice.findings[missing.fingerprint].status == "resolved"
    assert twice.audited.resolved == [missing.fingerprint]

    after = night(config, clock, PAL_SET)
    assert missing.fingerprint not in after.audited.resolved
    assert [(a, b) for a, b, _ in after.events[missing.fingerprint]] == [
        (None, "open"),
        ("open", "resolved"),
    ], "exactly one resolve"


def test_a_condition_back_before_k_clears_keeps_the_finding_open(
    tmp_path: Path,
    clock: Clock,
) -> None:
    config = make_config(tmp_path, disappeared_after_runs=1)
    present = [customer(C1, SUB1), customer(C2, SUB2)]
    night(config, clock, present)
    [gone] = night(config, clock, NO_PAL).rule("link_disappeared")
    night(config, clock, present)  # one clear

    again = night(config, clock, NO_PAL)

    assert again.findings[gone.fingerprint].status == "open"
    assert again.findings[gone.fingerprint].clears == 0
    assert [b for _, b, _ in again.events[gone.fingerprint]] == ["open"]
