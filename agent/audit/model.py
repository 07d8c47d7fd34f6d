"""The rule model: typed metadata, the candidate a rule emits, the stable fingerprint.

A rule is a pure function of one customer's snapshot: no I/O, no clock, no logging. It emits a
``Candidate`` per condition it sees (``firing``) or cannot judge (``unknown``); the engine turns
candidates into findings with a lifecycle.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from agent.recognition.stake import Stake
from connectors.records.scope import Source

if TYPE_CHECKING:
    from agent.audit.context import AuditContext
    from agent.audit.snapshot import CustomerSnapshot


class Severity(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"

    @property
    def rank(self) -> int:
        return list(Severity).index(self)


@dataclass(frozen=True, slots=True)
class RuleMeta:
    id: str
    title: str
    severity: Severity
    rationale: str
    remediation: str
    required_sources: tuple[Source, ...] = ()
    """Sources that must have been read completely (for the customer, or the partner scope)
    for the rule to be evaluated at all; otherwise its findings stay as they were."""
    open_after_runs: int | None = None
    """Consecutive evaluated runs a condition must be seen before its finding opens (guarantee
    confirm-k-runs); ``None`` takes the audit's ``open_after_runs``. A rule that counts its own runs
    (through ``Candidate.confirmed``) sets 1."""
    resolve_after_runs: int | None = None
    """Consecutive evaluated runs a condition must be absent before an announced finding
    resolves (guarantee resolve-once); ``None`` takes the audit's ``resolve_after_runs``."""


class Verdict(StrEnum):
    FIRING = "firing"
    UNKNOWN = "unknown"
    """The rule cannot judge this subject this run: its finding is left exactly as it was."""


@dataclass(frozen=True, slots=True)
class Candidate:
    """What a rule saw for one subject."""

    rule: str
    customer_tenant_id: str | None
    subject: str
    title: str
    link_kind: str | None = None
    link_id: str = ""
    verdict: Verdict = Verdict.FIRING
    confirmed: bool = True
    """False while a condition waits for its K-th run (the finding stays ``pending``)."""
    suspect: bool = False
    """Seen in a run a source anomaly makes doubtful (guarantee mass-loss-guard): the finding is
    held as ``suspect``, never announced, until a later run without the anomaly confirms or
    withdraws it. A finding already announced is left as it is."""
    severity: Severity | None = None
    remediation: str | None = None
    evidence: dict[str, Any] = field(default_factory=dict)
    stake: Stake | None = None
    """What rides on the finding, in its own unit (``None``: nothing rides on it, as for a read
    that failed)."""

    @property
    def value_at_stake(self) -> float:
        """The stake's amount in its own unit, 0 for none or no data (the store's column)."""
        return float(self.stake.value or 0.0) if self.stake is not None else 0.0


@dataclass(frozen=True, slots=True)
class Rule:
    meta: RuleMeta
    evaluate: Callable[[CustomerSnapshot, AuditContext], Iterable[Candidate]]


def fingerprint(
    rule: str, partner: str, customer: str | None, link_kind: str | None, link_id: str
) -> str:
    """Deterministic key of a finding: (rule, partner id, customer, link type, link id) (guarantee
    dedup-and-repeat)."""
    text = "|".join((rule, partner, customer or "-", link_kind or "-", link_id))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]
