"""Acting on a finding: the one way a person's decision (ack, snooze, assign, dismiss, reopen)
reaches the store, for the command line and the daemon's page alike.

The decision is :func:`agent.audit.decisions.judge` (pure); this reads the finding, judges and
stores the result with the event that records who, when and why (``partnerlink explain``
shows it). Raises ``LookupError`` for an unknown or ambiguous finding id,
:class:`~agent.audit.decisions.Refused` for a decision that cannot be made, and
:class:`~agent.store.repository.findings.FindingMoved` when the finding moved in between.
"""

from __future__ import annotations

from datetime import datetime

from agent.audit.condition import condition_of
from agent.audit.decisions import Request, Standing, judge
from agent.store.models import Finding, FindingStatus
from agent.store.repository import Store


def act(store: Store, fingerprint: str, request: Request, now: datetime) -> Finding:
    """Apply ``request`` to the finding ``fingerprint`` (a unique prefix will do)."""
    finding = store.finding(fingerprint)
    if finding is None:
        raise LookupError(f"no finding with id {fingerprint.strip()[:64]}")
    standing = Standing(
        status=FindingStatus(finding.status),
        until=finding.until,
        accepted=finding.accepted_condition,
        condition=condition_of(finding.severity, finding.evidence),
    )
    return store.decide_finding(finding.fingerprint, judge(standing, request, now))
