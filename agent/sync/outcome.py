"""What a sync reports: its outcome as the writer counts it, the run's verdict, and the seams it
tells its progress and reads its clock through."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from agent.store import LoadStats, RunStatus, ScopeResult, ScopeStatus


class Clock(Protocol):
    def __call__(self) -> datetime: ...


class Progress(Protocol):
    """Told how far a sync has come; the CLI draws a bar from it."""

    def start(self, total: int) -> None: ...

    def advance(self, customer: str) -> None: ...

    def stop(self) -> None: ...


@dataclass(slots=True)
class SyncOutcome:
    run_id: int
    status: RunStatus
    customers: int = 0
    scopes: int = 0
    failed: list[ScopeResult] = field(default_factory=list)
    not_attempted: int = 0
    carried: int = 0
    load: LoadStats = field(default_factory=LoadStats)
    seconds: float = 0.0

    def count(self, results: Sequence[ScopeResult], load: LoadStats) -> None:
        """Add one written batch of scope results and what storing them changed."""
        self.load.merge(load)
        self.scopes += len(results)
        self.failed.extend(r for r in results if r.status is ScopeStatus.FAILED)
        self.not_attempted += sum(r.status is ScopeStatus.NOT_ATTEMPTED for r in results)
        self.carried += sum(r.status is ScopeStatus.CARRIED for r in results)

    def verdict(self) -> RunStatus:
        """Complete when every scope settled; failed when none did (or none was read)."""
        if self.scopes == 0:
            return RunStatus.FAILED
        bad = len(self.failed) + self.not_attempted
        if bad == 0:
            return RunStatus.COMPLETE
        return RunStatus.FAILED if bad >= self.scopes else RunStatus.PARTIAL

    def stats(self) -> dict[str, Any]:
        return {
            "customers": self.customers,
            "scopes": self.scopes,
            "failed": len(self.failed),
            "not_attempted": self.not_attempted,
            "carried": self.carried,
            "added": self.load.added,
            "changed": self.load.changed,
            "removed": self.load.removed,
            "restored": self.load.restored,
            "seconds": round(self.seconds, 3),
        }
