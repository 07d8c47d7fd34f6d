"""PAL repair: off by default, a dry run lists the writes, a real run sends them through the
emulator as each identity, and the next sync verifies the links."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agent import repair
from agent.app import Agent
from agent.config import ConfigError, load_settings
from tests.worlds import C1, C2, SUB1, SUB2, customer, world_dict


def _config(folder: Path, *, enabled: bool) -> Path:
    world = world_dict(customer(C1, SUB1, pal=None), customer(C2, SUB2, pal="4100001"))
    (folder / "world.json").write_text(json.dumps(world))
    config = folder / "partnerlink.toml"
    config.write_text(
        '[partner]\ntenant_id = "7a11ce00-0000-4000-8000-000000000001"\n'
        'global_partner_id = "4100001"\n'
        '[[partner.locations]]\npartner_id = "4100002"\nlink_kinds = ["pal", "cpor"]\n'
        '[sources]\nmode = "emulator"\nscenario = "world.json"\n'
        f'[store]\ndata_dir = "."\n[repair]\npal_enabled = {str(enabled).lower()}\n'
        "[audit]\nresolve_after_runs = 1\n"
    )
    return config


def test_repair_is_refused_unless_enabled(tmp_path: Path) -> None:
    with Agent(load_settings(_config(tmp_path, enabled=False))) as agent:
        agent.cycle()
        fixes = repair.plan(agent)
        assert fixes, "planning (the dry run) works without the opt-in"
        with pytest.raises(ConfigError, match="pal_enabled"):
            repair.apply(agent, fixes)


def test_repair_sets_missing_and_wrong_links_and_the_next_sync_sees_them(tmp_path: Path) -> None:
    with Agent(load_settings(_config(tmp_path, enabled=True))) as agent:
        agent.cycle()
        fixes = repair.plan(agent)
        assert {(f.tenant, f.method, f.current) for f in fixes} == {
            (C1, "PUT", None),
            (C2, "PATCH", "4100001"),
        }
        assert all(f.target == "4100002" for f in fixes)
        results = repair.apply(agent, fixes)
        assert [outcome for _, outcome in results] == ["now 4100002", "now 4100002"]
        _, audited = agent.cycle()
        assert audited is not None
        assert repair.plan(agent) == [], "verified by the next sync"
        open_rules = {f.rule for f in agent.store.findings(statuses=["open"])}
        assert "wrong_partner_id" not in open_rules
        assert "link_missing" not in open_rules
