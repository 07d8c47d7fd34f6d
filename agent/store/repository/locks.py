"""What keeps two agents on one database from syncing at once: a lease row on SQLite, a
session-level advisory lock on PostgreSQL (it goes with the session, so a killed holder
releases it at once)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

import structlog
from sqlalchemy import delete, insert, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlmodel import col

from agent.store.models import RunnerLease
from agent.store.repository.base import StoreBase

log = structlog.get_logger("partnerlink.lock")


class LockTaken(Exception):
    """Another agent holds the lock; ``holder`` says which, where the backend knows."""

    def __init__(self, holder: str | None) -> None:
        super().__init__(f"lock held by {holder or 'another agent'}")
        self.holder = holder


class LocksMixin(StoreBase):
    def take_lease(
        self,
        name: str,
        holder: str,
        now: datetime,
        ttl: timedelta,
        gone: Callable[[str], bool] = lambda _holder: False,
    ) -> None:
        """Take (or take over an expired) lease ``name`` until ``now + ttl``; raise
        :class:`LockTaken` while another holder's lease runs, unless ``gone`` says that
        holder is known dead."""
        with self.write() as s:
            lease = s.scalars(select(RunnerLease).where(col(RunnerLease.name) == name)).first()
            if (
                lease is not None
                and lease.holder != holder
                and lease.expires_at > now
                and not gone(lease.holder)
            ):
                raise LockTaken(lease.holder)
            if lease is None:
                s.execute(
                    insert(RunnerLease).values(
                        name=name, holder=holder, acquired_at=now, expires_at=now + ttl
                    )
                )
            else:
                s.execute(
                    update(RunnerLease)
                    .where(col(RunnerLease.name) == name)
                    .values(holder=holder, acquired_at=now, expires_at=now + ttl)
                )

    def renew_lease(self, name: str, holder: str, expires_at: datetime) -> None:
        with self.write() as s:
            s.execute(
                update(RunnerLease)
                .where(col(RunnerLease.name) == name, col(RunnerLease.holder) == holder)
                .values(expires_at=expires_at)
            )

    def release_lease(self, name: str, holder: str) -> None:
        with self.write() as s:
            s.execute(
                delete(RunnerLease).where(
                    col(RunnerLease.name) == name, col(RunnerLease.holder) == holder
                )
            )

    @contextmanager
    def advisory_lock(self, key: int) -> Iterator[None]:
        """Hold PostgreSQL's session-level advisory lock ``key`` for the body, on a connection
        of its own; raise :class:`LockTaken` when another session holds it."""
        with self.engine.connect() as conn:
            got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar()
            conn.commit()
            if not got:
                raise LockTaken(_pg_holder(conn, key))
            try:
                yield
            finally:
                try:
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
                    conn.commit()
                except DBAPIError as exc:  # the session is gone, and the lock with it
                    log.warning("lock_session_lost", error_type=type(exc).__name__)


def _pg_holder(conn: Any, key: int) -> str | None:
    row = conn.execute(
        text(
            "SELECT a.client_addr::text, a.pid FROM pg_locks l JOIN pg_stat_activity a "
            "ON a.pid = l.pid WHERE l.locktype = 'advisory' AND l.objid = :k AND l.granted"
        ),
        {"k": key},
    ).first()
    conn.commit()
    return f"postgres backend {row[1]}" if row else None
