"""The repository: every read and write of the store goes through :class:`Store`.

One facade over one module per concern: runs, loading reads, reading observations, links,
findings, the kept credit view, the alert outbox, the single-runner lock. The audit and the
alert planning write inside one :class:`Transaction` (:meth:`Store.transaction`), so findings,
link states, credit lines and the messages about them commit together.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from agent.store.repository.bulk import CHUNK_ROWS, MAX_BOUND_PARAMETERS
from agent.store.repository.credit import CreditFilter, CreditMixin, StoredCredit
from agent.store.repository.findings import FindingBook, FindingsMixin
from agent.store.repository.links import LinksMixin
from agent.store.repository.loading import SCOPE_RUNNING, LoadingMixin, LoadStats, ScopeResult
from agent.store.repository.locks import LocksMixin, LockTaken
from agent.store.repository.observations import CarryBase, ObservationsMixin, StoredObservation
from agent.store.repository.outbox import Claim, OutboxBook, OutboxMixin, Outcome, SinkHistory
from agent.store.repository.runs import RunsMixin
from agent.store.repository.transaction import Transaction

__all__ = [
    "CHUNK_ROWS",
    "MAX_BOUND_PARAMETERS",
    "SCOPE_RUNNING",
    "CarryBase",
    "Claim",
    "CreditFilter",
    "FindingBook",
    "LoadStats",
    "LockTaken",
    "OutboxBook",
    "Outcome",
    "ScopeResult",
    "SinkHistory",
    "Store",
    "StoredCredit",
    "StoredObservation",
    "Transaction",
]


class Store(
    RunsMixin,
    LoadingMixin,
    ObservationsMixin,
    LinksMixin,
    FindingsMixin,
    CreditMixin,
    OutboxMixin,
    LocksMixin,
):
    """The agent's database, SQLite or PostgreSQL."""

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """A write transaction with the audit's and the outbox's writers; committed on
        success, rolled back (with everything written in it) on an exception."""
        with self.write() as session:
            yield Transaction(session, self._bulk)
