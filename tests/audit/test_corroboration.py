"""A customer relationship seen by two sources (Partner Center's customer list, Graph's
contracts) is gone only when both say so (guarantee corroborated-absence): while they disagree
it is "sources disagree" (cannot verify), never "disappeared", through the whole lifecycle."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from agent.app import Agent
from agent.config import load_settings
from agent.store.models import Finding
from connectors.records.links import LinkKind
from tests.conftest import Clock
from tests.e2e.test_cycles import make_config, write_world
from tests.worlds import C1, C2, SUB1, SUB2, customer


def _world(*, in_partner_center: bool = True, in_contracts: bool = True) -> list[dict[str, Any]]:
    c1 = customer(C1, SUB1, name="Cobalt Legal LLP")
    if not in_partner_center:
        c1["relationship"] = None
    if not in_contracts:
        c1["contract_type"] = None
    return [c1, customer(C2, SUB2)]


def _night(config: Path, clock: Clock, world: list[dict[str, Any]]) -> dict[str, list[Finding]]:
    """One night in a new process; the active findings of C1's customer relationship, by rule."""
    write_world(config.parent, *world)
    clock.advance(days=1)
    with Agent(load_settings(config), clock=clock) as agent:
        agent.cycle()
        rows = agent.store.findings(
            rules=["sources_disagree", "link_disappeared"], customers=[C1], statuses=None
        )
        states = [s for s in agent.store.links([C1]) if s.kind == LinkKind.CSP]
    by_rule: dict[str, list[Finding]] = {"sources_disagree": [], "link_disappeared": []}
    for row in rows:
        if row.status not in ("resolved", "withdrawn"):
            by_rule[row.rule].append(row)
    by_rule["csp_missing_runs"] = [s.missing_runs for s in states]  # type: ignore[list-item]
    return by_rule


def test_a_customer_gone_from_partner_center_but_in_graph_is_sources_disagree_until_both_agree(
    tmp_path: Path, clock: Clock
) -> None:
    config = make_config(tmp_path, disappeared_after_runs=2)
    first = _night(config, clock, _world())
    assert first["sources_disagree"] == [] and first["link_disappeared"] == []

    for _ in range(3):  # as long as they disagree: never disappeared, the count never moves
        night = _night(config, clock, _world(in_partner_center=False))
        [disagree] = night["sources_disagree"]
        assert disagree.status == "open"
        assert "Partner Center's customer list no longer shows it" in disagree.title
        assert "Graph's contracts still do" in disagree.title
        assert night["link_disappeared"] == []
        assert night["csp_missing_runs"] == [0]

    gone = _night(config, clock, _world(in_partner_center=False, in_contracts=False))
    assert gone["csp_missing_runs"] == [1]
    assert [f.status for f in gone["link_disappeared"]] == ["pending"]

    confirmed = _night(config, clock, _world(in_partner_center=False, in_contracts=False))
    assert [f.status for f in confirmed["link_disappeared"]] == ["open"]
    assert confirmed["sources_disagree"] == [], "they agree now: the blind spot resolved"


def test_a_customer_gone_from_graph_but_listed_in_partner_center_is_sources_disagree(
    tmp_path: Path, clock: Clock
) -> None:
    config = make_config(tmp_path)
    _night(config, clock, _world())

    night = _night(config, clock, _world(in_contracts=False))
    [disagree] = night["sources_disagree"]
    assert "Graph's contracts no longer show it" in disagree.title
    assert night["link_disappeared"] == [] and night["csp_missing_runs"] == [0]

    again = _night(config, clock, _world())
    assert [f.status for f in again["sources_disagree"]] == ["open"]  # resolves after K calm runs
    calm = _night(config, clock, _world())
    assert calm["sources_disagree"] == []


def test_a_customer_gone_from_partner_center_while_graph_could_not_be_read_is_not_gone(
    tmp_path: Path, clock: Clock
) -> None:
    config = make_config(tmp_path, disappeared_after_runs=1)
    _night(config, clock, _world())
    world = _world(in_partner_center=False)
    faults = [{"source": "graph.contracts", "scope": "partner", "status": 503}]

    write_world(config.parent, *world, faults=faults)
    clock.advance(days=1)
    with Agent(load_settings(config), clock=clock) as agent:
        agent.cycle()
        disappeared = agent.store.findings(rules=["link_disappeared"], customers=[C1])
        [csp] = [s for s in agent.store.links([C1]) if s.kind == LinkKind.CSP]

    assert disappeared == [] and csp.missing_runs == 0
