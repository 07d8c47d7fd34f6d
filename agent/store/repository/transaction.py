"""One write transaction, with the writers the audit and the alert planning use in it: a batch
of findings, link states, the run's audit stamp, the outbox. What one of them writes commits or
rolls back with all the others."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import cached_property
from typing import Any

from sqlmodel import Session

from agent.store.repository.findings import FindingBook
from agent.store.repository.links import save_link_states
from agent.store.repository.outbox import OutboxBook
from agent.store.repository.runs import stamp_audited
from agent.store.values import LinkState


class Transaction:
    def __init__(self, session: Session) -> None:
        self.session = session
        """The raw session, for what has no writer here yet (tests set up rows with it)."""

    def findings(self, customers: Sequence[str] | None) -> FindingBook:
        """The findings of these customers (``None``: the partner's own), to move along."""
        return FindingBook(self.session, customers)

    def save_links(self, states: Iterable[LinkState]) -> None:
        save_link_states(self.session, states)

    def mark_audited(
        self, run_id: int, now: datetime, *, coverage: dict[str, Any] | None = None
    ) -> None:
        stamp_audited(self.session, run_id, now, coverage)

    @cached_property
    def outbox(self) -> OutboxBook:
        return OutboxBook(self.session)
