"""guarantee scale: audits running beside a sync on SQLite never fail with SQLITE_BUSY (WAL, busy_timeout,
BEGIN IMMEDIATE)."""

from __future__ import annotations

import threading
from pathlib import Path

from agent.audit.engine import Auditor
from agent.store import Store
from tests.conftest import Clock
from tests.scale.support import context_factory, estate, fake_sync


def test_audits_beside_a_sync_never_see_a_locked_database(tmp_path: Path, clock: Clock) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    document, scenario = estate(150)
    writer_store = Store.open(url)
    audit_store = Store.open(url, upgrade=False)
    try:
        first = fake_sync(writer_store, document, scenario, clock)
        clock.advance(days=1)
        errors: list[BaseException] = []
        audits = 0
        done = threading.Event()

        def audit_repeatedly() -> None:
            nonlocal audits
            auditor = Auditor(audit_store, context_factory(scenario), clock=clock)
            while not done.is_set():
                try:
                    auditor.run(first.run_id)
                    audits += 1
                except BaseException as exc:
                    errors.append(exc)
                    return

        thread = threading.Thread(target=audit_repeatedly)
        thread.start()
        try:
            # Many small write transactions: every customer batch competes with the audits.
            fake_sync(writer_store, document, scenario, clock, concurrency=4, batch_scopes=8)
        finally:
            done.set()
            thread.join(timeout=120)
        assert not errors, f"an audit beside the sync failed: {errors[0]!r}"
        assert audits >= 1
    finally:
        audit_store.close()
        writer_store.close()
