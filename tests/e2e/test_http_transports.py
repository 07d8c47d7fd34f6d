"""Both HTTP transports (``[sync] http_transport``) read the demo world from the emulator over
TLS, sign-ins included, into the same store: the agent's own and httpx's, its fallback."""

from __future__ import annotations

import shutil
from importlib import resources
from pathlib import Path

from agent.app import Agent
from agent.config import load_settings
from agent.demo import write_config
from connectors.http.client import ENGINES
from standin.scenario import bundled_path, load_scenario
from tests.conftest import Clock


def _night(folder: Path, clock: Clock, engine: str) -> tuple[str, dict[str, int], list[str]]:
    folder.mkdir(parents=True)
    shutil.copy(bundled_path("demo"), folder / "world.json")
    managed = resources.files("standin.scenario") / "worlds" / "demo-managed-customers.csv"
    (folder / "managed-customers.csv").write_bytes(managed.read_bytes())
    config = write_config(folder, load_scenario(folder / "world.json"), "emulator")
    text = config.read_text(encoding="utf-8")
    assert "[sync]" not in text
    config.write_text(f'{text}\n[sync]\nhttp_transport = "{engine}"\n', encoding="utf-8")
    with Agent(load_settings(config), clock=clock) as agent:
        assert agent.settings.sync.http_transport == engine
        synced, audited = agent.cycle()
        assert audited is not None
        findings = sorted(f"{f.rule} {f.customer_tenant_id}" for f in agent.store.findings())
        return synced.status.value, agent.store.counts(), findings


def test_each_transport_reads_the_same_world(tmp_path: Path, clock: Clock) -> None:
    nights = {engine: _night(tmp_path / engine, clock, engine) for engine in ENGINES}
    own, fallback = nights["partnerlink"], nights["httpx"]
    assert own[0] == "partial"  # the demo's unconsented tenant, on either transport
    assert own == fallback
    assert own[1] and own[2]
