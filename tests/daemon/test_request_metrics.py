"""The daemon's /metrics counts the live connectors' requests and throttling waits."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from agent.app import Agent
from agent.config import load_settings
from agent.daemon import Daemon
from agent.web.config import HttpSection
from agent.web.server import status_server
from tests.worlds import C1, world_dict


def _emulator_config(folder: Path) -> Path:
    """An emulator-mode agent whose world throttles one Graph read once."""
    throttle = {
        "source": "graph.subscribed_skus",
        "scope": C1,
        "status": 429,
        "retry_after": 0.2,
        "times": 1,
    }
    (folder / "world.json").write_text(json.dumps(world_dict(faults=[throttle])))
    config = folder / "partnerlink.toml"
    config.write_text(
        '[partner]\ntenant_id = "7a11ce00-0000-4000-8000-000000000001"\n'
        'global_partner_id = "4100001"\n'
        '[sources]\nmode = "emulator"\nscenario = "world.json"\n'
        '[store]\ndata_dir = "."\n'
        "[http]\nenabled = false\n"
    )
    return config


def _samples(text: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    """The samples of one metric in a /metrics page, by their sorted labels."""
    return {
        tuple(sorted(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    }


def test_one_emulator_cycle_moves_the_request_and_throttling_counters(tmp_path: Path) -> None:
    with Agent(load_settings(_emulator_config(tmp_path))) as agent:
        daemon = Daemon(agent)
        daemon.cycle()
        assert daemon.cycles_run == 1
        http = HttpSection(port=0)
        server = status_server(
            agent.store, daemon.metrics, http, page=daemon.page, clock=agent.clock
        )
        server.start()
        try:
            page = httpx.get(f"http://127.0.0.1:{server.port}/metrics", timeout=5).text
        finally:
            server.stop()

    requests = _samples(page, "partnerlink_api_requests_total")
    assert requests[(("api", "graph"), ("status", "200"))] > 0
    assert requests[(("api", "graph"), ("status", "429"))] == 1
    assert requests[(("api", "partner_center"), ("status", "200"))] > 0
    assert requests[(("api", "arm"), ("status", "200"))] > 0
    assert {api for labels in requests for key, api in labels if key == "api"} <= {
        "partner_center",
        "graph",
        "arm",
        "insights",
        "download",
        "other",
    }, "no tenant in a label"

    waited = _samples(page, "partnerlink_throttle_wait_seconds_total")
    assert waited[(("api", "graph"),)] >= 0.15
