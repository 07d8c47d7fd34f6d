"""The single-runner lock: two agents on one database never sync at once (guarantee single-runner).

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

import structlog

from agent.store import Store
from agent.store.repository.locks import LockTaken

log = structlog.get_logger("partnerlink.lock")
_ADVISORY_KEY = 0x5041_524E  # "PARN": the sync lock, distinct from the migration lock


def default_holder() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def dead_here(holder: str) -> bool:
    """A holder on this host whose process has ended (killed, crashed): its lease need not run
    out before the next sync. Other hosts' holders are never judged from here."""
    host, _, pid = holder.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)  # signal 0: is there such a process?
    except ProcessLookupError:
        return True
    except OSError:  # it exists, under another user
        return False
    return False


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
        try:
            with self.store.advisory_lock(_ADVISORY_KEY):
                yield
        except LockTaken as exc:
            raise LockHeld(exc.holder) from None

    def _acquire_lease(self) -> None:
        try:
            self.store.take_lease(self.name, self.holder, self.clock(), self.ttl, gone=dead_here)
        except LockTaken as exc:
            raise LockHeld(exc.holder) from None

    def _renew(self, stop: threading.Event) -> None:
        interval = max(1.0, self.ttl.total_seconds() / 4)
        while not stop.wait(interval):
            try:
                self.store.renew_lease(self.name, self.holder, self.clock() + self.ttl)
            except Exception as exc:  # a missed renewal only shortens the lease
                log.warning("lease_renewal_failed", error_type=type(exc).__name__)

    def _release_lease(self) -> None:
        self.store.release_lease(self.name, self.holder)


class SoleRunner:
    """The runner lock as one agent takes it around each sync: re-entrant within the agent (the
    daemon holds it for a whole cycle, whose sync asks again), and the one place where runs left
    ``running`` become ``incomplete`` — only the lock's holder knows that no live sync owns them,
    so a command run beside a syncing daemon never ends the daemon's run."""

    def __init__(self, store: Callable[[], Store], clock: Callable[[], datetime]) -> None:
        self._store = store
        self._clock = clock
        self._depth = 0

    @contextmanager
    def hold(self) -> Iterator[None]:
        """Hold the lock for the body; raise :class:`LockHeld` when another agent has it."""
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        store = self._store()
        with RunnerLock(store, clock=self._clock).hold():
            self._depth = 1
            try:
                abandoned = store.abandon_interrupted(self._clock())
                if abandoned:
                    log.warning("runs_marked_incomplete", runs=abandoned)
                yield
            finally:
                self._depth = 0
