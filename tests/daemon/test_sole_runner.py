"""Runs left ``running`` are ended only by the runner lock's holder: a command opened beside a
syncing agent never marks that agent's run incomplete, and a second sync is refused in one line
(guarantee single-runner)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from typer.testing import CliRunner

from agent import cli
from agent.app import Agent
from agent.config import load_settings
from agent.exits import EXIT_FAILED
from agent.lock import RunnerLock, dead_here
from agent.store import RunStatus
from tests.conftest import Clock
from tests.e2e.test_cycles import make_config, write_world
from tests.worlds import C1, SUB1, customer


def _statuses(agent: Agent) -> list[str]:
    return [run.status for run in reversed(agent.store.runs())]


def test_a_command_beside_a_running_sync_leaves_its_run_running(
    tmp_path: Path, clock: Clock
) -> None:
    config = make_config(tmp_path)
    write_world(tmp_path, customer(C1, SUB1))
    with Agent(load_settings(config), clock=clock) as syncing:
        syncing.store.start_run(clock())  # a sync in progress in another agent
        with Agent(load_settings(config), clock=clock) as reader:
            assert reader.store.last_finished_run() is None
            assert _statuses(reader) == ["running"]
        result = CliRunner().invoke(cli.app, ["--config", str(config), "status"])
        assert result.exit_code in (0, 1, 2, 3), result.output
        assert _statuses(syncing) == ["running"]


def test_the_next_sync_under_the_lock_ends_a_run_whose_process_died(
    tmp_path: Path, clock: Clock
) -> None:
    config = make_config(tmp_path)
    write_world(tmp_path, customer(C1, SUB1))
    with Agent(load_settings(config), clock=clock) as dead:
        dead.store.start_run(clock())  # its process is killed here: no lease is left behind
    with Agent(load_settings(config), clock=clock) as agent:
        agent.sync()
        assert _statuses(agent) == [RunStatus.INCOMPLETE, RunStatus.COMPLETE]


def test_a_sync_while_another_agent_holds_the_lock_is_refused_in_one_line(
    tmp_path: Path, clock: Clock
) -> None:
    config = make_config(tmp_path)
    write_world(tmp_path, customer(C1, SUB1))
    with Agent(load_settings(config), clock=clock) as other:
        other.store.start_run(clock())
        # The lease is judged on the wall clock by the command's own agent.
        wall = RunnerLock(other.store, clock=lambda: datetime.now(UTC), holder="daemon-host:4242")
        with wall.hold():
            for command in ("sync", "cycle"):
                result = CliRunner().invoke(cli.app, ["--config", str(config), command])
                assert result.exit_code == EXIT_FAILED, result.output
                assert "another agent is syncing this store (daemon-host:4242)" in result.output
                assert "Traceback" not in result.output
        assert _statuses(other) == ["running"]


def test_a_lease_whose_holder_died_on_this_host_is_taken_over_at_once(
    tmp_path: Path, clock: Clock
) -> None:
    config = make_config(tmp_path)
    write_world(tmp_path, customer(C1, SUB1))
    with Agent(load_settings(config), clock=clock) as agent:
        dead = subprocess.run(
            [sys.executable, "-c", "import os; print(os.getpid())"],
            check=True,
            capture_output=True,
            text=True,
        )
        holder = f"{socket.gethostname()}:{int(dead.stdout)}"
        assert dead_here(holder)
        assert not dead_here(f"{socket.gethostname()}:{os.getpid()}")
        assert not dead_here(f"another-host:{int(dead.stdout)}"), "never judged from here"
        agent.store.take_lease("sync", holder, clock(), timedelta(minutes=10))
        assert agent.sync().status.value == "complete"
