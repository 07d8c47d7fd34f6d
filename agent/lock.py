"""The single-runner lock: two agents on one database never sync at once (R23).

PostgreSQL: a session-level advisory lock on a dedicated connection; it goes with the session,
so a killed holder releases it at once. SQLite: a lease row renewed while the run goes; a killed
holder's lease expires after its time to live.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlmodel import col

from agent.store import Store
from agent.store.models import RunnerLease

log = structlog.get_logger("partnerlink.lock")
_ADVISORY_KEY = 0x5041_524E  # "PARN": the sync lock, distinct from the migration lock


def default_holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class LockHeld(Exception):
    """Another agent holds the lock; ``holder`` says which, where the backend knows."""

    def __init__(self, holder: str | None) -> None:
        super().__init__(f"lock held by {holder or 'another agent'}")
        self.holder = holder


class RunnerLock:
    def __init__(
        self,
        store: Store,
        *,
        clock: Callable[[], datetime],
        holder: str | None = None,
        ttl: timedelta = timedelta(minutes=10),
        name: str = "sync",
    ) -> None:
        self.store = store
        self.clock = clock
        self.holder = holder or default_holder()
        self.ttl = ttl
        self.name = name

    @contextmanager
    def hold(self) -> Iterator[None]:
        """Hold the lock for the body; raise :class:`LockHeld` when another agent has it."""
        if self.store.dialect == "postgresql":
            with self._advisory():
                yield
            return
        self._acquire_lease()
        stop = threading.Event()
        renewer = threading.Thread(
            target=self._renew, args=(stop,), daemon=True, name="partnerlink-lease"
        )
        renewer.start()
        try:
            yield
        finally:
            stop.set()
            renewer.join(timeout=5)
            self._release_lease()

    @contextmanager
    def _advisory(self) -> Iterator[None]:
        with self.store.engine.connect() as conn:
            got = conn.execute(
                text("SELECT pg_try_advisory_lock(:k)"), {"k": _ADVISORY_KEY}
            ).scalar()
            conn.commit()
            if not got:
                raise LockHeld(self._pg_holder(conn))
            try:
                yield
            finally:
                try:
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _ADVISORY_KEY})
                    conn.commit()
                except DBAPIError as exc:  # the session is gone, and the lock with it
                    log.warning("lock_session_lost", error_type=type(exc).__name__)

    @staticmethod
    def _pg_holder(conn: Any) -> str | None:
        row = conn.execute(
            text(
                "SELECT a.client_addr::text, a.pid FROM pg_locks l JOIN pg_stat_activity a "
                "ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.objid = :k AND l.granted"
            ),
            {"k": _ADVISORY_KEY},
        ).first()
        conn.commit()
        return f"postgres backend {row[1]}" if row else None

    def _acquire_lease(self) -> None:
        now = self.clock()
        with self.store.write() as s:
            lease = s.scalars(select(RunnerLease).where(col(RunnerLease.name) == self.name)).first()
            if lease is not None and lease.holder != self.holder and lease.expires_at > now:
                raise LockHeld(lease.holder)
            if lease is None:
                s.execute(
                    insert(RunnerLease).values(
                        name=self.name,
                        holder=self.holder,
                        acquired_at=now,
                        expires_at=now + self.ttl,
                    )
                )
            else:
                s.execute(
                    update(RunnerLease)
                    .where(col(RunnerLease.name) == self.name)
                    .values(holder=self.holder, acquired_at=now, expires_at=now + self.ttl)
                )

    def _renew(self, stop: threading.Event) -> None:
        interval = max(1.0, self.ttl.total_seconds() / 4)
        while not stop.wait(interval):
            try:
                with self.store.write() as s:
                    s.execute(
                        update(RunnerLease)
                        .where(
                            col(RunnerLease.name) == self.name,
                            col(RunnerLease.holder) == self.holder,
                        )
                        .values(expires_at=self.clock() + self.ttl)
                    )
            except Exception as exc:  # a missed renewal only shortens the lease
                log.warning("lease_renewal_failed", error_type=type(exc).__name__)

    def _release_lease(self) -> None:
        with self.store.write() as s:
            s.execute(
                delete(RunnerLease).where(
                    col(RunnerLease.name) == self.name, col(RunnerLease.holder) == self.holder
                )
            )
