"""The credit view of one customer as the audit rules read it: evaluated once per snapshot
(the recognition rules share it) with the partner and rulebook of the audit; and kept in the
store for every customer the view shows, so ``credit`` and the report read the audit's
judgement instead of judging every line again (``agent.recognition.stored``)."""

from __future__ import annotations

from collections.abc import Set
from typing import Any

from agent.audit.context import AuditContext
from agent.audit.snapshot import CustomerSnapshot
from agent.recognition.credit import CreditLine, evaluate
from agent.recognition.holdings import Us
from agent.recognition.stored import fingerprint, to_columns

_KEY = "credit_lines"


def credit_lines(snapshot: CustomerSnapshot, ctx: AuditContext) -> list[CreditLine]:
    """The customer's credit lines (agent.recognition.credit), computed on first use."""
    lines = snapshot.memo.get(_KEY)
    if lines is None:
        lines = evaluate(snapshot, Us.from_context(ctx), ctx.rulebook)
        snapshot.memo[_KEY] = lines
    return list(lines)


class CreditKeeper:
    """Gathers the rows of the credit view one audit keeps: every line of every customer the
    view shows (those with current observations or reads in the run), evaluated where no
    recognition rule did so already."""

    def __init__(self, ctx: AuditContext, run_id: int, viewed: Set[str]) -> None:
        self.run_id = run_id
        self.viewed = viewed
        self.fingerprint = fingerprint(Us.from_context(ctx), ctx.rulebook)
        self.rows: list[tuple[Any, ...]] = []

    def keep(self, snapshot: CustomerSnapshot, ctx: AuditContext) -> None:
        if snapshot.tenant_id not in self.viewed:
            return
        name = snapshot.name
        self.rows.extend(
            to_columns(self.run_id, self.fingerprint, name, n, line)
            for n, line in enumerate(credit_lines(snapshot, ctx))
        )

    def take(self) -> list[tuple[Any, ...]]:
        """The rows gathered since the last call."""
        rows, self.rows = self.rows, []
        return rows
