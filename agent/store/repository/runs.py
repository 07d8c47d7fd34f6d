"""Sync runs: started, finished, skipped, abandoned, audited; and what each run read."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, select, update
from sqlmodel import Session, col

from agent.store.models import RunStatus, SourceStatus, SyncRun
from agent.store.repository.base import StoreBase
from agent.store.repository.tables import SOURCE_STATUS, SYNC_RUN


class RunsMixin(StoreBase):
    def start_run(self, now: datetime, trigger: str = "manual") -> int:
        with self.write() as s:
            run = SyncRun(started_at=now, trigger=trigger, status=RunStatus.RUNNING)
            s.add(run)
            s.flush()
            assert run.id is not None
            return run.id

    def finish_run(
        self,
        run_id: int,
        status: RunStatus,
        now: datetime,
        *,
        stats: dict[str, Any] | None = None,
        error: str | None = None,
    ) -> None:
        with self.write() as s:
            s.execute(
                update(SyncRun)
                .where(col(SyncRun.id) == run_id)
                .values(status=status, finished_at=now, stats=json.dumps(stats or {}), error=error)
            )

    def mark_audited(
        self, run_id: int, now: datetime, *, coverage: dict[str, Any] | None = None
    ) -> None:
        """Stamp the run as audited (the audit itself does so in its own transaction)."""
        with self.write() as s:
            stamp_audited(s, run_id, now, coverage)

    def record_skipped(self, now: datetime, reason: str, trigger: str = "schedule") -> int:
        """A run that did not happen, and why (another agent held the lock)."""
        with self.write() as s:
            run = SyncRun(
                started_at=now,
                finished_at=now,
                trigger=trigger,
                status=RunStatus.SKIPPED,
                error=reason,
            )
            s.add(run)
            s.flush()
            assert run.id is not None
            return run.id

    def last_started_run(self) -> SyncRun | None:
        """The newest run that really started (skipped ones excluded)."""
        with self.read() as s:
            return s.scalars(
                select(SyncRun)
                .where(col(SyncRun.status) != RunStatus.SKIPPED)
                .order_by(col(SyncRun.id).desc())
                .limit(1)
            ).first()

    def abandon_interrupted(self, now: datetime) -> list[int]:
        """Runs left ``running`` by a process that died become ``incomplete``: never audited."""
        with self.write() as s:
            ids = list(
                s.scalars(select(col(SyncRun.id)).where(col(SyncRun.status) == RunStatus.RUNNING))
            )
            if ids:
                s.execute(
                    update(SyncRun)
                    .where(col(SyncRun.id).in_(ids))
                    .values(
                        status=RunStatus.INCOMPLETE,
                        finished_at=now,
                        error="the process stopped before the run finished",
                    )
                )
            return [i for i in ids if i is not None]

    def run(self, run_id: int) -> SyncRun | None:
        with self.read() as s:
            return s.get(SyncRun, run_id)

    def runs(self, limit: int = 50) -> list[SyncRun]:
        with self.read() as s:
            return list(s.scalars(select(SyncRun).order_by(col(SyncRun.id).desc()).limit(limit)))

    def last_finished_run(self) -> SyncRun | None:
        """The newest run the audit may evaluate: complete or partial, never incomplete."""
        with self.read() as s:
            return s.scalars(
                select(SyncRun)
                .where(col(SyncRun.status).in_((RunStatus.COMPLETE, RunStatus.PARTIAL)))
                .order_by(col(SyncRun.id).desc())
                .limit(1)
            ).first()

    def statuses(self, run_id: int) -> dict[tuple[str, str], SourceStatus]:
        with self.read() as s:
            rows = s.scalars(select(SourceStatus).where(col(SourceStatus.run_id) == run_id))
            return {(r.source, r.scope): r for r in rows}

    def source_counts(self, run_id: int) -> dict[str, tuple[int, int]]:
        """Per source: items in the previous finished run and in this one, over the scopes
        read completely both times (a failed read proves nothing either way)."""
        with self.read() as s:
            runs = SYNC_RUN.c
            previous = s.scalars(
                select(runs.id)
                .where(runs.id < run_id, runs.status.in_(("complete", "partial")))
                .order_by(runs.id.desc())
                .limit(1)
            ).first()
            if previous is None:
                return {}
            cur, old = SOURCE_STATUS.alias("cur"), SOURCE_STATUS.alias("old")
            rows = s.execute(
                select(cur.c.source, func.sum(old.c.records), func.sum(cur.c.records))
                .join_from(cur, old, and_(old.c.source == cur.c.source, old.c.scope == cur.c.scope))
                .where(
                    cur.c.run_id == run_id,
                    old.c.run_id == previous,
                    cur.c.status == "complete",
                    old.c.status == "complete",
                )
                .group_by(cur.c.source)
            )
            return {str(src): (int(before or 0), int(now or 0)) for src, before, now in rows}


def stamp_audited(
    session: Session, run_id: int, now: datetime, coverage: dict[str, Any] | None
) -> None:
    """Stamp the run as audited, keeping the audit's coverage figures in its stats."""
    run = session.get(SyncRun, run_id)
    if run is None:
        return
    run.audited_at = now
    if coverage is not None:
        stats = json.loads(run.stats or "{}")
        stats["coverage"] = coverage
        run.stats = json.dumps(stats, sort_keys=True)
