"""The daemon does not wait a day: at start, a cycle runs at once when the last complete one is
older than the schedule's interval (or there is none), unless ``[schedule] catch_up`` is off;
and the estate's readiness is logged before it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agent.app import Agent
from agent.config import load_settings
from agent.daemon import Daemon, schedule_interval
from agent.startup import catch_up_reason
from tests.conftest import Clock
from tests.e2e.test_cycles import make_config, write_world
from tests.logs import project_logging
from tests.readiness.estate import write_estate
from tests.worlds import C1, C2, SUB1, SUB2, customer

MONDAY_10 = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)


def _config(folder: Path, schedule: str) -> Path:
    config = make_config(folder)
    config.write_text(config.read_text() + f"[schedule]\n{schedule}\n[http]\nenabled = false\n")
    write_world(folder, customer(C1, SUB1), customer(C2, SUB2))
    return config


def _cycles_at_start(config: Path, clock: Clock) -> int:
    """Start the daemon at ``clock``'s time; the cycles it ran by itself at start."""
    with Agent(load_settings(config), clock=clock) as agent:
        daemon = Daemon(agent)
        daemon.start()
        try:
            assert daemon.started.wait(30), "what the daemon does at start never finished"
            return daemon.cycles_run
        finally:
            daemon.stop()


def _one_cycle(config: Path, clock: Clock) -> None:
    with Agent(load_settings(config), clock=clock) as agent:
        agent.cycle()


def test_a_first_start_runs_a_cycle_at_once(tmp_path: Path) -> None:
    config = _config(tmp_path, 'interval = "24h"')
    assert _cycles_at_start(config, Clock(MONDAY_10)) == 1


def test_a_last_cycle_older_than_the_interval_runs_again_and_a_recent_one_does_not(
    tmp_path: Path,
) -> None:
    config = _config(tmp_path, 'interval = "24h"')
    _one_cycle(config, Clock(MONDAY_10))
    assert _cycles_at_start(config, Clock(MONDAY_10 + timedelta(hours=23))) == 0
    assert _cycles_at_start(config, Clock(MONDAY_10 + timedelta(hours=25))) == 1


def test_a_daily_cron_does_not_wait_for_tomorrow_after_a_long_stop(tmp_path: Path) -> None:
    """02:00 was missed 8 hours ago, beyond the 6-hour grace; the last cycle is two days old."""
    config = _config(tmp_path, 'cron = "0 2 * * *"\nmisfire_grace = "6h"')
    _one_cycle(config, Clock(MONDAY_10 - timedelta(days=2)))
    assert _cycles_at_start(config, Clock(MONDAY_10)) == 1


def test_catch_up_off_waits_for_the_schedule(tmp_path: Path) -> None:
    config = _config(tmp_path, 'cron = "0 2 * * *"\nmisfire_grace = "6h"\ncatch_up = false')
    assert _cycles_at_start(config, Clock(MONDAY_10)) == 0


def test_an_incomplete_run_does_not_count_as_a_complete_cycle(tmp_path: Path) -> None:
    config = _config(tmp_path, 'interval = "24h"')
    clock = Clock(MONDAY_10)
    with Agent(load_settings(config), clock=clock) as agent:
        agent.store.start_run(clock(), "schedule")  # the process died while syncing
    assert _cycles_at_start(config, Clock(MONDAY_10 + timedelta(minutes=5))) == 1


@pytest.mark.parametrize(
    ("schedule", "interval"),
    [
        ('interval = "6h"', timedelta(hours=6)),
        ('cron = "0 2 * * *"', timedelta(days=1)),
        ('cron = "0 2 * * 1-5"', timedelta(days=3)),
        ('cron = "30 */4 * * *"', timedelta(hours=4)),
    ],
)
def test_the_schedules_interval_is_its_longest_gap(
    tmp_path: Path, schedule: str, interval: timedelta
) -> None:
    config = _config(tmp_path, schedule)
    with Agent(load_settings(config)) as agent:
        assert schedule_interval(agent, MONDAY_10) == interval


def test_why_a_cycle_runs_at_once() -> None:
    day = timedelta(days=1)
    assert catch_up_reason(None, MONDAY_10, day) == "no complete cycle yet"
    assert catch_up_reason(MONDAY_10 - timedelta(hours=20), MONDAY_10, day) is None
    reason = catch_up_reason(MONDAY_10 - timedelta(days=3), MONDAY_10, day)
    assert reason == (
        "the last complete cycle started 3.0 days ago, more than the 24.0 hours between "
        "scheduled cycles"
    )


def test_the_readiness_of_the_estate_is_logged_at_start(tmp_path: Path) -> None:
    config = write_estate(tmp_path)
    config.write_text(config.read_text() + '[schedule]\ninterval = "24h"\ncatch_up = false\n')
    with project_logging() as stream, Agent(load_settings(config)) as agent:
        daemon = Daemon(agent)
        daemon.start()
        try:
            assert daemon.started.wait(60)
        finally:
            daemon.stop()
    events = [json.loads(line) for line in stream.getvalue().splitlines() if line.startswith("{")]
    [checked] = [e for e in events if e["event"] == "readiness_checked"]
    assert checked["level"] == "warning"
    assert checked["summary"].startswith("coverage: 1 of 5 customers (20.0 %)")
    assert checked["not_readable"] == 4
    causes = [e["cause"] for e in events if e["event"] == "readiness_cause"]
    assert "consent missing: 1 customer(s): Birch" in causes
    assert daemon.cycles_run == 0, "catch_up is off: the readiness check runs no cycle"
