"""The credit view the audit judged: each customer's credit lines of the audited run, and which
run and fingerprint the table holds now.

The audit evaluates every customer's credit lines anyway (the recognition rules read them), so
it keeps them: ``credit`` and the report read them instead of judging 400,000 lines again. The
columns the view filters and ranks by are columns of their own; what is only shown rides along.
The ``fingerprint`` names what the judgement rests on besides the snapshot (the partner's IDs,
the rulebook): a view judged under another configuration is never served.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, Integer, SmallInteger, Text
from sqlmodel import Field, SQLModel

from agent.store.types import UTCDateTime

VERDICT_INDEX = (
    "run_id",
    "counts",
    "customer_tenant_id",
    "unit_rank",
    "stake_currency",
    "stake_value",
    "customer_key",
)
"""The summary's sums per verdict and per customer, read from this index alone, in its order
(at 20,000 customers a scan of the table's wide rows took seconds)."""
REASON_INDEX = (
    "run_id",
    "counts",
    "reason",
    "solution_area",
    "metric",
    "customer_tenant_id",
    "unit_rank",
    "stake_currency",
    "stake_value",
)
"""The summary's sums per reason, area and metric, likewise."""


class CreditLineRow(SQLModel, table=True):
    """One credit line of one customer, as the audit of ``run_id`` judged it."""

    __tablename__ = "credit_line"
    __table_args__ = (
        Index("ix_credit_line_customer", "customer_tenant_id"),
        Index("ix_credit_line_verdicts", *VERDICT_INDEX),
        Index("ix_credit_line_reasons", *REASON_INDEX),
    )

    id: int | None = Field(default=None, primary_key=True)
    run_id: int
    fingerprint: str = Field(max_length=64)
    customer_tenant_id: str = Field(max_length=64)
    customer_name: str = Field(sa_column=Column(Text, nullable=False))
    customer_key: str = Field(sa_column=Column(Text, nullable=False))
    """The name as the view sorts it (lower case)."""
    position: int
    """The line's place among its customer's lines: the last tie-breaker of the order."""
    solution_area: str = Field(max_length=48)
    metric: str = Field(max_length=48)
    track: str = Field(max_length=24)
    rule_id: str = Field(max_length=120)
    counts: int = Field(sa_column=Column(SmallInteger, nullable=False))
    """0: does not count for us; 1: cannot verify; 2: counts (the view's order)."""
    reason: str = Field(max_length=48)
    holder_kind: str | None = Field(default=None, max_length=16)
    whose: str | None = Field(default=None, max_length=8)
    holder: str | None = Field(default=None, sa_column=Column(Text))
    holder_detail: str | None = Field(default=None, sa_column=Column(Text))
    """The rest of the holding, as JSON (families, workloads, evidence, source, variant)."""
    words: str = Field(sa_column=Column(Text, nullable=False))
    stake_unit: str = Field(max_length=8)
    unit_rank: int = Field(sa_column=Column(SmallInteger, nullable=False))
    """Money 0, users 1, seats 2: the order of unit groups."""
    stake_value: float | None = None
    stake_currency: str | None = Field(default=None, max_length=8)
    stake_basis: str = Field(sa_column=Column(Text, nullable=False))
    remedy_kind: str | None = Field(default=None, max_length=16)
    remedy_partner_id: str | None = Field(default=None, max_length=32)
    remedy: str | None = Field(default=None, sa_column=Column(Text))
    unchecked: str = Field(sa_column=Column(Text, nullable=False))
    """JSON list of the thresholds shown but not judged."""
    sources: str = Field(sa_column=Column(Text, nullable=False))
    """JSON list of the rule's public sources."""
    shortfall: str | None = Field(default=None, sa_column=Column(Text))
    """JSON: the figure and the threshold it falls short of (``below_threshold`` lines)."""


class CreditViewMark(SQLModel, table=True):
    """The run and fingerprint whose credit view ``credit_line`` holds in full (one row, or
    none while an audit replaces it)."""

    __tablename__ = "credit_view"

    run_id: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    fingerprint: str = Field(max_length=64)
    customers: int
    lines: int
    written_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False))
    summary: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    """The summary of the whole view as JSON (``agent.recognition.summary``), once the audit
    has summed it; ``None`` until then."""
