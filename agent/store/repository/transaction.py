"""One write transaction, with the writers the audit and the alert planning use in it: a batch
of findings, link states, credit lines, the run's audit stamp, the outbox. What one of them
writes commits or rolls back with all the others."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import cached_property
from typing import Any

from sqlmodel import Session

from agent.store.repository.bulk import BulkStatements
from agent.store.repository.credit import (
    forget_credit_view,
    mark_credit_view,
    replace_credit_lines,
)
from agent.store.repository.findings import FindingBook
from agent.store.repository.links import save_link_states
from agent.store.repository.outbox import OutboxBook
from agent.store.repository.runs import stamp_audited
from agent.store.values import LinkState


class Transaction:
    def __init__(self, session: Session, bulk: BulkStatements) -> None:
        self.session = session
        """The raw session, for what has no writer here yet (tests set up rows with it)."""
        self._bulk = bulk

    def findings(self, customers: Sequence[str] | None) -> FindingBook:
        """The findings of these customers (``None``: the partner's own), to move along."""
        return FindingBook(self.session, customers)

    def save_links(self, states: Iterable[LinkState]) -> None:
        save_link_states(self.session, states)

    def forget_credit_view(self) -> None:
        """An audit begins replacing the kept credit view: it is not whole until it ends."""
        forget_credit_view(self.session)

    def save_credit_lines(self, customers: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
        """The credit lines of ``customers`` as this audit judged them (``CREDIT_COLUMNS``
        tuples), in place of those kept before."""
        replace_credit_lines(self.session, self._bulk, customers, rows)

    def mark_credit_view(
        self, run_id: int, fingerprint: str, customers: int, now: datetime
    ) -> None:
        """Every customer's lines of ``run_id`` are written: the kept view is whole."""
        mark_credit_view(self.session, run_id, fingerprint, customers, now)

    def mark_audited(
        self, run_id: int, now: datetime, *, coverage: dict[str, Any] | None = None
    ) -> None:
        stamp_audited(self.session, run_id, now, coverage)

    @cached_property
    def outbox(self) -> OutboxBook:
        return OutboxBook(self.session)
