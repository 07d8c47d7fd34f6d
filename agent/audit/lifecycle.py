"""A finding's life as one pure decision: (what the store holds, what this run saw) → the next
state, the status change to record, and how the run counts it. No I/O, no clock.

Seen: new → pending, open or suspect; pending → open after ``open_after_runs`` consecutive
evaluated runs (and the rule's own confirmation); suspect → open or pending once a run without
the anomaly still sees it; resolved → reopened; a snooze that has ended → open; dismissed →
open when its condition (``agent.audit.condition``) is not the one the dismissal accepted, in a
run without a source anomaly (guarantee accepted-risk). Cleared: pending and suspect are
withdrawn at once (never announced, so no resolve either); others, dismissed ones too, resolve
after ``resolve_after_runs`` consecutive clears; a resolved finding seen again is a new
episode, its dismissal forgotten. Unknown and not evaluated (a required source incomplete)
move nothing: they neither advance nor reset a count. A run is counted once: auditing it twice
changes nothing the second time.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from agent.store.models import ACTIVE_STATUSES, FindingStatus
from agent.store.values import FindingState, StatusChange

HELD = "held as suspect: a source anomaly makes this run's data doubtful"
CHANGED = "reopened: its condition changed since it was dismissed"


class Observed(StrEnum):
    """What one evaluated rule said about one finding's condition in this run."""

    SEEN = "seen"
    CLEAR = "clear"
    """The rule was evaluated and did not report it."""
    UNKNOWN = "unknown"
    """The rule could not tell (its verdict for this candidate was unknown)."""
    NOT_EVALUATED = "not_evaluated"
    """A source the rule needs was not read completely for this customer."""


@dataclass(frozen=True, slots=True)
class Evaluation:
    """This run's word on one finding."""

    observed: Observed
    run_id: int
    now: datetime
    confirmed: bool = True
    """The rule's own confirmation (``link_disappeared``: absent in K complete runs)."""
    suspect: bool = False
    """A source anomaly makes this run's sighting doubtful."""
    condition: str | None = None
    """The condition digest of what the rule reported (``agent.audit.condition``); ``None``
    when it cannot be told (then a dismissal holds)."""


@dataclass(frozen=True, slots=True)
class LifecyclePolicy:
    """How many runs it takes: the rule's own numbers, else the ``[audit]`` ones."""

    open_after_runs: int = 1
    resolve_after_runs: int = 2


class Tally(StrEnum):
    """How the run's summary counts a transition."""

    NEW = "new"
    PENDING = "pending"
    SUSPECT = "suspect"
    RESOLVED = "resolved"
    WITHDRAWN = "withdrawn"
    ONGOING = "ongoing"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class Transition:
    state: FindingState | None
    """The state to store; the previous one when nothing moves (``None``: no finding)."""
    change: StatusChange | None = None
    """The status change to record, if the status changed."""
    tally: Tally = Tally.NONE


def decide(
    previous: FindingState | None, evaluation: Evaluation, policy: LifecyclePolicy
) -> Transition:
    """Where a finding goes after this run's evaluation."""
    if evaluation.observed is Observed.SEEN:
        return _seen(previous, evaluation, policy)
    if evaluation.observed is Observed.CLEAR and previous is not None:
        return _cleared(previous, evaluation, policy)
    return Transition(previous)


def _seen(previous: FindingState | None, ev: Evaluation, policy: LifecyclePolicy) -> Transition:
    if previous is None:
        target = _target(ev, 1, policy)
        state = FindingState(target, 1, 0, ev.run_id, first_seen=ev.now, last_seen=ev.now)
        return _move(state, None, ev, HELD if ev.suspect else None)
    old = previous.status
    if previous.last_run_id == ev.run_id and old is not FindingStatus.RESOLVED:
        return Transition(previous)  # this run was already counted
    stamped = replace(previous, last_seen=ev.now, last_run_id=ev.run_id, clears=0)
    if old is FindingStatus.RESOLVED:
        target = _target(ev, 1, policy)
        reopened = replace(stamped, status=target, resolved_at=None, hits=1, accepted=None)
        return _move(reopened, old, ev, "reopened" + ("; " + HELD if ev.suspect else ""))
    stamped = replace(stamped, hits=previous.hits + 1)
    if old in (FindingStatus.PENDING, FindingStatus.SUSPECT):
        target = _target(ev, stamped.hits, policy)
        if target is not old:
            return _move(replace(stamped, status=target), old, ev, _why(old, target))
        return Transition(
            stamped, tally=Tally.SUSPECT if old is FindingStatus.SUSPECT else Tally.ONGOING
        )
    if old is FindingStatus.SNOOZED and previous.until is not None and previous.until <= ev.now:
        woken = replace(stamped, status=FindingStatus.OPEN, until=None)
        change = StatusChange(old, FindingStatus.OPEN, ev.run_id, ev.now, "snooze ended")
        return Transition(woken, change)
    if old is FindingStatus.DISMISSED and _condition_changed(previous, ev):
        reopened = replace(stamped, status=FindingStatus.OPEN, accepted=None)
        change = StatusChange(old, FindingStatus.OPEN, ev.run_id, ev.now, CHANGED)
        return Transition(reopened, change, Tally.NEW)
    return Transition(stamped, tally=Tally.ONGOING)  # announced already: nothing to tell


def _cleared(previous: FindingState, ev: Evaluation, policy: LifecyclePolicy) -> Transition:
    old = previous.status
    if old not in ACTIVE_STATUSES or previous.last_run_id == ev.run_id:
        return Transition(previous)
    stamped = replace(previous, last_run_id=ev.run_id)
    if old in (FindingStatus.PENDING, FindingStatus.SUSPECT):
        note = (
            "withdrawn before it was confirmed"
            if old is FindingStatus.PENDING
            else "withdrawn: it came back after the source anomaly"
        )
        withdrawn = replace(stamped, status=FindingStatus.RESOLVED, resolved_at=ev.now)
        change = StatusChange(old, FindingStatus.RESOLVED, ev.run_id, ev.now, note)
        return Transition(withdrawn, change, Tally.WITHDRAWN)
    stamped = replace(stamped, clears=previous.clears + 1)
    if stamped.clears < policy.resolve_after_runs:
        return Transition(stamped)
    resolved = replace(stamped, status=FindingStatus.RESOLVED, resolved_at=ev.now)
    change = StatusChange(old, FindingStatus.RESOLVED, ev.run_id, ev.now)
    return Transition(resolved, change, Tally.RESOLVED)


def _condition_changed(previous: FindingState, ev: Evaluation) -> bool:
    """Whether a dismissed finding's condition is no longer the one accepted; a doubtful run
    (a source anomaly) proves no change."""
    if ev.suspect or ev.condition is None or previous.accepted is None:
        return False
    return ev.condition != previous.accepted


def _target(ev: Evaluation, hits: int, policy: LifecyclePolicy) -> FindingStatus:
    """Where a finding seen ``hits`` consecutive evaluated runs stands (not yet announced)."""
    if ev.suspect:
        return FindingStatus.SUSPECT
    if ev.confirmed and hits >= policy.open_after_runs:
        return FindingStatus.OPEN
    return FindingStatus.PENDING


def _move(
    state: FindingState, old: FindingStatus | None, ev: Evaluation, note: str | None
) -> Transition:
    """A status change that the run's summary counts by where it lands."""
    tally = {FindingStatus.OPEN: Tally.NEW, FindingStatus.SUSPECT: Tally.SUSPECT}.get(
        state.status, Tally.PENDING
    )
    return Transition(state, StatusChange(old, state.status, ev.run_id, ev.now, note), tally)


def _why(old: FindingStatus, new: FindingStatus) -> str:
    if new is FindingStatus.SUSPECT:
        return HELD
    if old is FindingStatus.SUSPECT:
        return (
            "confirmed by a run without the anomaly"
            if new is FindingStatus.OPEN
            else "released: a run without the anomaly still sees it"
        )
    return "confirmed"
