"""guarantee atomic-customer: kill -9 while a sync writes ⇒ each customer's rows are the previous complete snapshot or
the new one, never a mix; the interrupted run is marked incomplete and never audited."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

from sqlalchemy import select

from agent.app import Agent
from agent.config import load_settings
from agent.store.models import Observation, SyncRun
from tests.e2e.test_cycles import make_config
from tests.worlds import customer, world_dict

N = 400


def _world(folder: Path, pal: str | None) -> None:
    customers = [
        customer(
            f"c{n:07d}-0000-4000-8000-000000000000",
            f"5{n:07d}-0000-4000-8000-000000000000",
            pal=pal,
        )
        for n in range(N)
    ]
    (folder / "world.json").write_text(json.dumps(world_dict(*customers)))


def test_kill_during_sync_leaves_whole_customers_and_an_incomplete_run(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    _world(tmp_path, "4100002")
    with Agent(load_settings(config)) as agent:
        first = agent.sync()
    _world(tmp_path, "4100001")  # every customer's PAL changes in the second run
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARTNERLINK_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "agent", "--config", str(config), "sync"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    db = tmp_path / "partnerlink.db"
    deadline = time.monotonic() + 60
    with Agent(load_settings(config)) as watcher:
        while time.monotonic() < deadline:  # wait until the second run has written some customers
            with watcher.store.read() as s:
                written = s.scalar(
                    select(Observation.id).where(Observation.last_run_id > first.run_id).limit(1)
                )
            if written is not None:
                break
            time.sleep(0.01)
    os.kill(process.pid, signal.SIGKILL)
    process.wait(10)
    assert db.exists()
    with Agent(load_settings(config)) as agent:
        # Opening the store ends no run (another agent may be syncing); the next sync does,
        # under the runner lock, whose lease the killed process left: its holder is gone.
        assert agent.store.runs()[0].status in ("running", "complete")
        with agent.runner.hold(), agent.store.read() as s:
            runs = {r.id: r.status for r in s.scalars(select(SyncRun))}
            rows = list(s.scalars(select(Observation).where(Observation.scope != "partner")))
        assert runs[first.run_id] == "complete"
        interrupted = [status for run_id, status in runs.items() if run_id != first.run_id]
        assert interrupted in (["incomplete"], ["complete"])  # killed, or already done
        by_customer: dict[str, set[int]] = defaultdict(set)
        for row in rows:
            by_customer[row.customer_tenant_id or ""].add(row.last_run_id)
        mixed = {c: ids for c, ids in by_customer.items() if len(ids) > 1}
        assert mixed == {}, "a customer's rows come from one run only"
        if interrupted == ["incomplete"]:
            last = agent.store.last_finished_run()
            assert last is not None and last.id == first.run_id, "never audited"
