"""The store's tables. History is never hard-deleted: rows are stamped, marked removed, resolved.

Observations are generic (kind, source, scope, key, JSON payload) so that one load-and-cleanup
path serves every source; their decoded form is always a frozen record of connectors.records.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from agent.store.types import UTCDateTime


class RunStatus(StrEnum):
    RUNNING = "running"
    COMPLETE = "complete"
    PARTIAL = "partial"
    FAILED = "failed"
    INCOMPLETE = "incomplete"
    """The process died while the run was going: its data is never audited (guarantee
    atomic-customer)."""
    SKIPPED = "skipped"


class ScopeStatus(StrEnum):
    COMPLETE = "complete"
    FAILED = "failed"
    NOT_ATTEMPTED = "not_attempted"
    CARRIED = "carried"
    """Not read again: Partner Center's audit records show no change since the complete read
    of ``as_of_run_id``, whose observations stand. Evaluated like a complete read, but never
    new proof that something is gone (trust rules)."""


SETTLED_SCOPE = frozenset({ScopeStatus.COMPLETE, ScopeStatus.CARRIED})
"""Scope statuses whose observations are the scope's current state."""


class FindingStatus(StrEnum):
    PENDING = "pending"
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    SNOOZED = "snoozed"
    RESOLVED = "resolved"
    SUSPECT = "suspect"
    DISMISSED = "dismissed"
    """An accepted risk: a person dismissed it with a reason. It stays dismissed, silent, until
    its condition changes (``agent.audit.condition``) or it resolves."""


ACTIVE_STATUSES = frozenset(
    {
        FindingStatus.PENDING,
        FindingStatus.OPEN,
        FindingStatus.ACKNOWLEDGED,
        FindingStatus.SNOOZED,
        FindingStatus.SUSPECT,
        FindingStatus.DISMISSED,
    }
)
"""Not resolved: the condition is still there (an acknowledged, snoozed or dismissed finding
included); the audit keeps moving these along."""


def _utc(nullable: bool = False) -> Column[datetime]:
    return Column(UTCDateTime(), nullable=nullable)


class SyncRun(SQLModel, table=True):
    __tablename__ = "sync_run"

    id: int | None = Field(default=None, primary_key=True)
    started_at: datetime = Field(sa_column=_utc())
    finished_at: datetime | None = Field(default=None, sa_column=_utc(True))
    status: str = Field(default=RunStatus.RUNNING, max_length=16, index=True)
    trigger: str = Field(default="manual", max_length=32)
    stats: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    error: str | None = Field(default=None, sa_column=Column(Text))
    audited_at: datetime | None = Field(default=None, sa_column=_utc(True))


class SourceStatus(SQLModel, table=True):
    __tablename__ = "source_status"
    __table_args__ = (
        UniqueConstraint("run_id", "source", "scope", name="uq_source_status_run_scope"),
        Index("ix_source_status_scope", "source", "scope", "run_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(foreign_key="sync_run.id", index=True)
    source: str = Field(max_length=64)
    scope: str = Field(max_length=200)
    customer_tenant_id: str | None = Field(default=None, max_length=64, index=True)
    status: str = Field(max_length=16)
    error_kind: str | None = Field(default=None, max_length=16)
    error: str | None = Field(default=None, sa_column=Column(Text))
    records: int = 0
    finished_at: datetime = Field(sa_column=_utc())
    as_of_run_id: int | None = Field(default=None)
    """For a ``carried`` scope: the run whose complete read it stands on."""


class Observation(SQLModel, table=True):
    __tablename__ = "observation"
    __table_args__ = (
        UniqueConstraint("source", "scope", "kind", "key", name="uq_observation_identity"),
        Index("ix_observation_customer_kind", "customer_tenant_id", "kind"),
        Index("ix_observation_kind_current", "kind", "removed_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=40)
    source: str = Field(max_length=64)
    scope: str = Field(max_length=200)
    key: str = Field(max_length=300)
    customer_tenant_id: str | None = Field(default=None, max_length=64)
    payload: str = Field(sa_column=Column(Text, nullable=False))
    payload_hash: str = Field(max_length=64)
    first_seen_at: datetime = Field(sa_column=_utc())
    last_seen_at: datetime = Field(sa_column=_utc())
    first_run_id: int = Field(foreign_key="sync_run.id")
    last_run_id: int = Field(foreign_key="sync_run.id")
    removed_at: datetime | None = Field(default=None, sa_column=_utc(True))
    removed_run_id: int | None = Field(default=None, foreign_key="sync_run.id")


class ObservationEvent(SQLModel, table=True):
    """Every change of an observation: added, changed, removed, restored."""

    __tablename__ = "observation_event"

    id: int | None = Field(default=None, primary_key=True)
    observation_id: int = Field(foreign_key="observation.id", index=True)
    run_id: int = Field(foreign_key="sync_run.id")
    at: datetime = Field(sa_column=_utc())
    change: str = Field(max_length=16)
    payload: str | None = Field(default=None, sa_column=Column(Text))


class Link(SQLModel, table=True):
    """A partner link as the audit derived it, with its presence counted over complete runs."""

    __tablename__ = "link"
    __table_args__ = (Index("ix_link_customer", "customer_tenant_id"),)

    id: int | None = Field(default=None, primary_key=True)
    link_key: str = Field(max_length=400, unique=True)
    kind: str = Field(max_length=24)
    customer_tenant_id: str = Field(max_length=64)
    workload: str = Field(max_length=120)
    holder: str | None = Field(default=None, max_length=32)
    identity: str | None = Field(default=None, max_length=64)
    source: str = Field(max_length=64)
    detail: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    first_seen_at: datetime = Field(sa_column=_utc())
    last_seen_at: datetime = Field(sa_column=_utc())
    last_seen_run_id: int
    missing_runs: int = 0
    last_counted_run_id: int | None = None
    cause: str | None = Field(default=None, sa_column=Column(Text))


class Finding(SQLModel, table=True):
    __tablename__ = "finding"
    __table_args__ = (
        Index("ix_finding_customer", "customer_tenant_id"),
        Index("ix_finding_rule_status", "rule", "status"),
        Index("ix_finding_status", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    fingerprint: str = Field(max_length=64, unique=True)
    rule: str = Field(max_length=48)
    severity: str = Field(max_length=16)
    status: str = Field(max_length=16)
    customer_tenant_id: str | None = Field(default=None, max_length=64)
    customer_name: str | None = Field(default=None, max_length=200)
    subject: str = Field(max_length=300)
    link_kind: str | None = Field(default=None, max_length=24)
    title: str = Field(sa_column=Column(Text, nullable=False))
    remediation: str = Field(default="", sa_column=Column(Text, nullable=False))
    evidence: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    value_at_stake: float = 0.0
    first_seen: datetime = Field(sa_column=_utc())
    last_seen: datetime = Field(sa_column=_utc())
    resolved_at: datetime | None = Field(default=None, sa_column=_utc(True))
    hits: int = 1
    clears: int = 0
    last_run_id: int | None = None
    owner: str | None = Field(default=None, max_length=120)
    note: str | None = Field(default=None, sa_column=Column(Text))
    until: datetime | None = Field(default=None, sa_column=_utc(True))
    accepted_condition: str | None = Field(default=None, max_length=64)
    """A dismissed finding: the digest of the condition the dismissal accepted."""


class FindingEvent(SQLModel, table=True):
    """Every status change of a finding, in order; the source of alerts and of `explain`."""

    __tablename__ = "finding_event"

    id: int | None = Field(default=None, primary_key=True)
    fingerprint: str = Field(max_length=64, index=True)
    run_id: int | None = None
    at: datetime = Field(sa_column=_utc())
    from_status: str | None = Field(default=None, max_length=16)
    to_status: str = Field(max_length=16)
    note: str | None = Field(default=None, sa_column=Column(Text))
    actor: str | None = Field(default=None, max_length=200)
    """Who decided, for a person's decision (``None``: the audit moved it)."""
    action: str | None = Field(default=None, max_length=16)
    """What a person did: ack, snooze, assign, dismiss, reopen (``None``: the audit)."""


class RunnerLease(SQLModel, table=True):
    """The single-runner lease on SQLite (PostgreSQL uses an advisory lock instead) (guarantee
    single-runner)."""

    __tablename__ = "runner_lease"

    name: str = Field(primary_key=True, max_length=32)
    holder: str = Field(max_length=120)
    acquired_at: datetime = Field(sa_column=_utc())
    expires_at: datetime = Field(sa_column=_utc())
