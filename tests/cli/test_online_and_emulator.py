"""`check --online` (the readiness check) against the emulator (guarantee credentials), and the
`emulator` command as a process."""

from __future__ import annotations

import json
import signal
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from agent.app import Agent
from agent.config import load_settings
from agent.readiness.estate import check_readiness
from agent.readiness.present import print_readiness
from tests.worlds import world_dict


def _config(folder: Path, roles: list[str] | None) -> Path:
    world = world_dict()
    if roles is not None:
        world["partner"]["app"]["roles"] = roles
    (folder / "world.json").write_text(json.dumps(world))
    config = folder / "partnerlink.toml"
    config.write_text(
        '[partner]\ntenant_id = "7a11ce00-0000-4000-8000-000000000001"\n'
        'global_partner_id = "4100001"\n'
        '[sources]\nmode = "emulator"\nscenario = "world.json"\n'
        '[store]\ndata_dir = "."\n'
    )
    return config


def _check(config: Path) -> tuple[bool, str]:
    from rich.console import Console

    console = Console(record=True, width=300)
    with Agent(load_settings(config)) as agent:
        found = check_readiness(agent)
    print_readiness(found, console)
    return found.ok, console.export_text()


def test_online_check_passes_with_the_read_only_roles(tmp_path: Path) -> None:
    ok, text = _check(_config(tmp_path, None))
    assert ok, text
    assert "partner_center" in text
    assert "graph (partner tenant)" in text
    assert "at or above the floor of 100 %" in text


def test_online_check_names_a_missing_permission_and_what_to_do(tmp_path: Path) -> None:
    ok, text = _check(_config(tmp_path, ["Directory.Read.All"]))
    assert not ok
    assert "DelegatedAdminRelationship.Read.All" in text
    assert "admin consent" in text
    assert "Reports.Read.All" in text, "read from each customer tenant's directory too"


def test_online_check_warns_about_write_permissions(tmp_path: Path) -> None:
    roles = [
        "Directory.Read.All",
        "DelegatedAdminRelationship.Read.All",
        "Application.Read.All",
        "Reports.Read.All",
        "Directory.ReadWrite.All",
    ]
    ok, text = _check(_config(tmp_path, roles))
    assert ok, "more than needed is a warning, not a failure"
    assert "warning" in text
    assert "Directory.ReadWrite.All" in text
    assert "more than a read-only agent needs" in text


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_emulator_command_serves_the_demo_and_stops_on_sigterm(tmp_path: Path) -> None:
    port, ca = _free_port(), tmp_path / "ca.pem"
    process = subprocess.Popen(
        [sys.executable, "-m", "agent", "emulator", "--port", str(port), "--ca-out", str(ca)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        info: dict[str, Any] = {}
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if ca.exists():
                try:
                    context = ssl.create_default_context(cafile=str(ca))
                    with httpx.Client(verify=context, timeout=2) as client:
                        info = client.get(f"https://127.0.0.1:{port}/_emulator/info").json()
                    break
                except (httpx.HTTPError, ssl.SSLError):
                    pass
            time.sleep(0.2)
        assert {"partner_tenant_id", "client_id", "client_secret"} <= set(info)
    finally:
        process.send_signal(signal.SIGTERM)
        _out, err = process.communicate(timeout=15)
    assert process.returncode == 0, err
    assert "Traceback" not in err


def test_emulator_mode_budgets_at_the_emulators_time_scale(tmp_path: Path) -> None:
    """The client-side budgets run Microsoft's limits at the emulator's own time scale, and
    `sync.max_in_flight` bounds the requests on the wire."""
    import asyncio

    config = _config(tmp_path, None)
    world = json.loads((tmp_path / "world.json").read_text())
    world["emulator"] = {"time_scale": 20.0}
    (tmp_path / "world.json").write_text(json.dumps(world))
    config.write_text(config.read_text() + "[sync]\nmax_in_flight = 7\n")

    async def requester_of(agent: Agent) -> Any:
        async with agent.wiring().connectors() as made:
            return made[0].requester  # type: ignore[attr-defined]

    with Agent(load_settings(config)) as agent:
        requester = asyncio.run(requester_of(agent))
    assert requester.limits.time_scale == 20.0
    assert requester.max_in_flight == 7


def test_the_answer_caps_and_the_emulator_download_allowance_come_from_the_composition_root(
    tmp_path: Path,
) -> None:
    """`[sync]` caps reach the requester; only emulator mode lets downloads go to a loopback
    origin, and only to the emulator's own; against Microsoft nothing is let through."""
    import asyncio

    config = _config(tmp_path, None)
    config.write_text(config.read_text() + "[sync]\nmax_body_bytes = 123456\n")

    async def requester_of(agent: Agent) -> Any:
        async with agent.wiring().connectors() as made:
            return made[0].requester  # type: ignore[attr-defined]

    with Agent(load_settings(config)) as agent:
        requester = asyncio.run(requester_of(agent))
        origin = agent.wiring().emulator_origin
    assert (requester.caps.page, requester.caps.download) == (123456, 500_000_000)
    assert origin is not None and origin.startswith("https://127.0.0.1:")
    assert requester.downloads.allow_origins == {origin}

    microsoft = tmp_path / "microsoft.toml"
    microsoft.write_text(
        '[partner]\ntenant_id = "7a11ce00-0000-4000-8000-000000000001"\n'
        'global_partner_id = "4100001"\n'
        '[credentials]\nclient_id = "a0000000-0000-4000-8000-0000000000a1"\n'
        'client_secret = "s3cret-s3cret"\n'
        f'[store]\ndata_dir = "{tmp_path}"\n'
    )
    with Agent(load_settings(microsoft)) as agent:
        wiring = agent.wiring()
        assert wiring.emulator_origin is None
        assert wiring.downloads().allow_origins == frozenset()
        assert wiring.caps().page == 50_000_000


def test_in_emulator_mode_the_pal_read_is_not_failed_by_an_arm_subscriptions_fault(
    tmp_path: Path,
) -> None:
    """The demo world fails every arm.subscriptions read of one customer. The PAL read lists the
    same endpoint for its own purpose; the emulator tells the two apart by the source hint the
    composition root's client adds (for the emulator only), as the fake connectors do."""
    from standin.scenario import bundled_path

    faulty = "c0000000-0000-4000-8000-000000000010"
    config = tmp_path / "partnerlink.toml"
    config.write_text(
        '[partner]\ntenant_id = "7a11ce00-0000-4000-8000-000000000001"\n'
        'global_partner_id = "4100001"\n'
        f'[sources]\nmode = "emulator"\nscenario = "{bundled_path("demo")}"\n'
        f'[store]\ndata_dir = "{tmp_path}"\n'
    )
    with Agent(load_settings(config)) as agent:
        outcome = agent.sync()
        statuses = agent.store.statuses(outcome.run_id)
    assert statuses[("arm.subscriptions", faulty)].status == "failed"
    assert statuses[("arm.pal", f"{faulty}/partner-app")].status == "complete"
