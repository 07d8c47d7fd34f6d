"""The daemon: single-runner lock (guarantee single-runner), scheduling semantics (guarantee schedule), health, graceful stop."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from apscheduler.triggers.cron import CronTrigger

from agent.app import Agent
from agent.config import load_settings
from agent.daemon import JOB_ID, Daemon, WallClockCronTrigger, cron_fields, previous_fire
from agent.lock import _ADVISORY_KEY, LockHeld, RunnerLock
from agent.store import Store
from tests.conftest import Clock
from tests.e2e.test_cycles import make_config, write_world
from tests.worlds import C1, C2, SUB1, SUB2, customer


def test_second_agent_on_sqlite_is_refused_while_the_lease_is_held(
    sqlite_store: Store, clock: Clock
) -> None:
    first = RunnerLock(sqlite_store, clock=clock, holder="agent-a")
    second = RunnerLock(sqlite_store, clock=clock, holder="agent-b")
    with first.hold(), pytest.raises(LockHeld, match="agent-a"), second.hold():
        pass
    with second.hold():
        pass


def test_a_dead_holders_lease_expires(sqlite_store: Store, clock: Clock) -> None:
    dead = RunnerLock(sqlite_store, clock=clock, holder="killed", ttl=timedelta(minutes=10))
    dead._acquire_lease()  # acquired, then the process "dies" without releasing
    other = RunnerLock(sqlite_store, clock=clock, holder="survivor")
    with pytest.raises(LockHeld):
        other._acquire_lease()
    clock.advance(minutes=11)
    with other.hold():
        pass


@pytest.mark.postgres
def test_two_agents_on_postgresql_exactly_one_holds_the_lock(pg_url: str, clock: Clock) -> None:
    a, b = Store.open(pg_url), Store.open(pg_url)
    try:
        holder = RunnerLock(a, clock=clock, holder="a")
        with holder.hold():
            with pytest.raises(LockHeld), RunnerLock(b, clock=clock, holder="b").hold():
                pass
        a.engine.dispose()  # the holder's session ends: the lock goes with it
        with RunnerLock(b, clock=clock, holder="b").hold():
            pass
    finally:
        a.close()
        b.close()


@pytest.mark.postgres
def test_a_killed_postgresql_holder_releases_at_session_end(pg_url: str, clock: Clock) -> None:
    a, b = Store.open(pg_url), Store.open(pg_url)
    try:
        entered = threading.Event()
        release = threading.Event()

        def hold() -> None:
            with RunnerLock(a, clock=clock).hold():
                entered.set()
                release.wait(10)

        worker = threading.Thread(target=hold)
        worker.start()
        assert entered.wait(10)
        with pytest.raises(LockHeld), RunnerLock(b, clock=clock).hold():
            pass
        # Terminate the holder's backend as a kill -9 of the agent would end its session.
        with b.engine.connect() as conn:
            from sqlalchemy import text

            conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' "
                    "AND granted AND objid = :key AND pid <> pg_backend_pid()"
                ),
                {"key": _ADVISORY_KEY},
            )
            conn.commit()
        # pg_terminate_backend signals the backend; its session ends a moment later.
        deadline = time.monotonic() + 10
        while True:
            try:
                with RunnerLock(b, clock=clock).hold():
                    break
            except LockHeld:
                assert time.monotonic() < deadline, "the lock outlived its session"
                time.sleep(0.05)
        release.set()
        worker.join(10)
    finally:
        a.close()
        b.close()


def test_a_cycle_that_finds_the_lock_held_records_a_skipped_run(
    tmp_path: Path, clock: Clock
) -> None:
    config = make_config(tmp_path)
    write_world(tmp_path, customer(C1, SUB1), customer(C2, SUB2))
    with Agent(load_settings(config), clock=clock) as agent:
        daemon = Daemon(agent)
        with RunnerLock(agent.store, clock=clock, holder="another-agent").hold():
            daemon.cycle()
        [run] = agent.store.runs()
        assert run.status == "skipped"
        assert "another-agent" in (run.error or "")
        daemon.cycle()
        assert agent.store.runs()[0].status == "complete"


def test_crontab_weekdays_mean_what_cron_means() -> None:
    fields = cron_fields("0 2 * * 1-5")
    assert fields["day_of_week"] == "mon-fri"
    assert cron_fields("0 2 * * 0")["day_of_week"] == "sun"
    assert cron_fields("0 2 * * 7")["day_of_week"] == "sun"


def test_a_daily_schedule_fires_once_a_day_across_daylight_saving_changes() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    trigger = WallClockCronTrigger(**cron_fields("30 2 * * *"), timezone=berlin)
    for start in (datetime(2027, 3, 25, tzinfo=berlin), datetime(2027, 10, 28, tzinfo=berlin)):
        fires: list[datetime] = []
        fire = trigger.get_next_fire_time(None, start)
        while fire is not None and fire < start + timedelta(days=6) and len(fires) < 20:
            fires.append(fire)
            fire = trigger.get_next_fire_time(fire, fire + timedelta(seconds=1))
        days = [f.astimezone(berlin).date() for f in fires]
        assert len(days) == len(set(days)) == 6, fires


def test_previous_fire_finds_the_run_missed_while_down() -> None:
    trigger = CronTrigger(**cron_fields("0 2 * * *"), timezone=UTC)
    now = datetime(2026, 11, 3, 5, 0, tzinfo=UTC)
    assert previous_fire(trigger, now, timedelta(hours=6)) == datetime(
        2026, 11, 3, 2, 0, tzinfo=UTC
    )
    assert previous_fire(trigger, now, timedelta(hours=2)) is None, "outside the grace"


def test_restarts_keep_exactly_one_job_and_catch_up_once(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    (tmp_path / "partnerlink.toml").write_text(
        config.read_text() + '\n[schedule]\ncron = "0 2 * * *"\nmisfire_grace = "6h"\n'
        "[http]\nenabled = false\n"
    )
    write_world(tmp_path, customer(C1, SUB1), customer(C2, SUB2))
    clock = Clock(datetime(2026, 11, 3, 5, 0, tzinfo=UTC))  # down from 02:00 to 05:00
    with Agent(load_settings(config), clock=clock) as agent:
        daemon = Daemon(agent)
        daemon.scheduler.start(paused=True)
        for _ in range(3):
            daemon.scheduler.add_job(
                daemon.cycle, "interval", hours=1, id=JOB_ID, replace_existing=True
            )
        assert [j.id for j in daemon.scheduler.get_jobs()] == [JOB_ID]
        daemon.scheduler.shutdown(wait=False)
    with Agent(load_settings(config), clock=clock) as agent:
        daemon = Daemon(agent)
        daemon.start()
        try:
            deadline = time.monotonic() + 20
            while daemon.cycles_run < 1 and time.monotonic() < deadline:
                time.sleep(0.05)
            assert daemon.cycles_run == 1
            ids = sorted(j.id for j in daemon.scheduler.get_jobs())
            assert ids == [JOB_ID], "the catch-up ran once and is gone"
        finally:
            daemon.stop()
    with Agent(load_settings(config), clock=clock) as agent:  # restarted again: no second one
        daemon = Daemon(agent)
        daemon.start()
        try:
            time.sleep(0.5)
            assert daemon.cycles_run == 0
        finally:
            daemon.stop()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_run_answers_health_and_metrics_and_stops_on_sigterm(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    write_world(tmp_path, customer(C1, SUB1), customer(C2, SUB2))
    port = _free_port()
    env = {"PARTNERLINK_HTTP__PORT": str(port), "PATH": "/usr/bin:/bin"}
    process = subprocess.Popen(
        [sys.executable, "-m", "agent", "--config", str(config), "run"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        health = None
        started = time.monotonic()
        while time.monotonic() - started < 20:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        assert health is not None
        assert health.json() == {"status": "alive"}
        assert time.monotonic() - started < 20, "answers within seconds"
        metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=2).text
        assert "partnerlink_cycle_duration_seconds" in metrics
        ready = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2)
        assert ready.status_code == 200
        assert json.loads(ready.text)["ready"] is True
    finally:
        stopping = time.monotonic()
        process.send_signal(signal.SIGTERM)
        _out, err = process.communicate(timeout=20)
    assert time.monotonic() - stopping < 10, "stops within seconds of SIGTERM"
    assert process.returncode == 0, err
    assert "Traceback" not in err
