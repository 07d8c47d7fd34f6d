"""The plain values the repository takes and hands back: a finding's lifecycle state and content,
one status change, a link's presence history, a link as a view shows it.

They carry no session, so the audit decides over them as data (the lifecycle decision is a pure
function of them) and only the repository turns them into rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from agent.store.models import FindingStatus


@dataclass(frozen=True, slots=True)
class FindingState:
    """A finding's place in its life: the columns the lifecycle reads and writes."""

    status: FindingStatus
    hits: int
    """Consecutive evaluated runs that saw the condition (counts toward opening)."""
    clears: int
    """Consecutive evaluated runs that did not (counts toward resolving)."""
    last_run_id: int | None
    """The last run that moved these counts: auditing a run twice counts it once."""
    first_seen: datetime
    last_seen: datetime
    resolved_at: datetime | None = None
    until: datetime | None = None
    """The end of a snooze."""
    accepted: str | None = None
    """A dismissed finding: the condition digest its dismissal accepted."""


@dataclass(frozen=True, slots=True)
class FindingContent:
    """What a finding says: refreshed from the rule's candidate whenever a run sees it."""

    rule: str
    severity: str
    customer_tenant_id: str | None
    customer_name: str | None
    subject: str
    link_kind: str | None
    title: str
    remediation: str
    evidence: str
    """JSON text."""
    value_at_stake: float


@dataclass(frozen=True, slots=True)
class StatusChange:
    """One ``finding_event`` row: a status change, the run and time it happened, and why."""

    from_status: FindingStatus | None
    to_status: FindingStatus
    run_id: int
    at: datetime
    note: str | None = None


@dataclass(slots=True)
class LinkState:
    """A link's presence history, as kept in the ``link`` table."""

    key: str
    kind: str
    customer_tenant_id: str
    workload: str
    holder: str | None
    ref: str
    source: str
    first_seen_at: datetime
    last_seen_at: datetime
    last_seen_run_id: int
    missing_runs: int = 0
    last_counted_run_id: int | None = None
    cause: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    held_run_id: int | None = None
    """The run whose source anomaly made the last counted miss doubtful (the mass-disappearance
    guard); cleared when a
    later run without the anomaly proves the absence again, or the link is seen."""
    dirty: bool = False
    """Changed by this audit: the repository writes only these back."""


@dataclass(frozen=True, slots=True)
class Decided:
    """A person's decision on a finding, ready to store: where the finding goes and the event
    that records who decided it, when and why."""

    from_status: FindingStatus
    """Where the finding stood when the decision was made: the store refuses the decision if it
    has moved since."""
    status: FindingStatus
    until: datetime | None
    accepted: str | None
    owner: str | None
    """The owner to set; ``None`` keeps the one it has."""
    reason: str | None
    """The note to keep on the finding; ``None`` keeps the one it has."""
    actor: str
    action: str
    note: str
    """The event's note: the reason, and what else the decision set."""
    at: datetime


@dataclass(frozen=True, slots=True)
class LinkRow:
    """A link as the matrix shows it (the ``link`` table's columns of that name)."""

    customer_tenant_id: str
    workload: str
    kind: str
    holder: str | None
    identity: str | None
    source: str
    first_seen_at: datetime
    last_seen_at: datetime
    missing_runs: int


LINK_ROW_FIELDS = tuple(LinkRow.__dataclass_fields__)
