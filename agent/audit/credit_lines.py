"""The credit view of one customer as the audit rules read it: evaluated once per snapshot
(the recognition rules share it) with the partner and rulebook of the audit."""

from __future__ import annotations

from agent.audit.context import AuditContext
from agent.audit.snapshot import CustomerSnapshot
from agent.recognition.credit import CreditLine, evaluate
from agent.recognition.holdings import Us

_KEY = "credit_lines"


def credit_lines(snapshot: CustomerSnapshot, ctx: AuditContext) -> list[CreditLine]:
    """The customer's credit lines (agent.recognition.credit), computed on first use."""
    lines = snapshot.memo.get(_KEY)
    if lines is None:
        lines = evaluate(snapshot, Us.from_context(ctx), ctx.rulebook)
        snapshot.memo[_KEY] = lines
    return list(lines)
