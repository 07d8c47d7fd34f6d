"""The finding lifecycle as a table: one row per transition of ``decide`` (previous state, this
run's evaluation, the policy) → the next state, the status change it records, how the run
counts it. Pure: no store, no clock."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta

import pytest

from agent.audit.lifecycle import (
    CHANGED,
    HELD,
    Evaluation,
    LifecyclePolicy,
    Observed,
    Tally,
    Transition,
    decide,
)
from agent.store import FindingState, FindingStatus, StatusChange
from tests.conftest import T0

RUN = 7
NOW = T0 + timedelta(days=6)
EARLIER = T0 + timedelta(days=1)
KEEP = LifecyclePolicy(open_after_runs=1, resolve_after_runs=2)
TWO_TO_OPEN = LifecyclePolicy(open_after_runs=2, resolve_after_runs=2)

PEND, OPEN, SUSP = FindingStatus.PENDING, FindingStatus.OPEN, FindingStatus.SUSPECT
DONE, ACK, SNOOZ = FindingStatus.RESOLVED, FindingStatus.ACKNOWLEDGED, FindingStatus.SNOOZED
DISM = FindingStatus.DISMISSED
ACCEPTED, OTHER = "c0ffee" * 5 + "00", "decade" * 5 + "00"
"""Two condition digests: the one a dismissal accepted, and a different one."""


def was(status: FindingStatus, *, hits: int = 1, clears: int = 0, **kw: object) -> FindingState:
    """A finding as an earlier run left it."""
    base = FindingState(status, hits, clears, RUN - 1, first_seen=EARLIER, last_seen=EARLIER)
    return replace(base, **kw)  # type: ignore[arg-type]


def seen(
    *, confirmed: bool = True, suspect: bool = False, condition: str | None = ACCEPTED
) -> Evaluation:
    return Evaluation(
        Observed.SEEN, RUN, NOW, confirmed=confirmed, suspect=suspect, condition=condition
    )


CLEAR = Evaluation(Observed.CLEAR, RUN, NOW)
UNKNOWN = Evaluation(Observed.UNKNOWN, RUN, NOW)
NOT_EVALUATED = Evaluation(Observed.NOT_EVALUATED, RUN, NOW)


@dataclass(frozen=True)
class Row:
    previous: FindingState | None
    evaluation: Evaluation
    status: FindingStatus | None
    """Where it lands (None: no finding)."""
    event: tuple[FindingStatus | None, str | None] | None
    """(from status, note) of the recorded change, or None: no event."""
    tally: Tally
    hits: int | None = None
    clears: int | None = None
    policy: LifecyclePolicy = KEEP
    counted: bool = True
    """Whether this run is stamped on the finding (last_run_id, and last_seen when seen)."""


ROWS: dict[str, Row] = {
    # first sighting
    "new and confirmed: open at once": Row(None, seen(), OPEN, (None, None), Tally.NEW, 1, 0),
    "new, not yet confirmed by the rule: pending": Row(
        None, seen(confirmed=False), PEND, (None, None), Tally.PENDING, 1, 0
    ),
    "new, fewer runs than open_after_runs: pending": Row(
        None, seen(), PEND, (None, None), Tally.PENDING, 1, 0, policy=TWO_TO_OPEN
    ),
    "new during a source anomaly: suspect": Row(
        None, seen(suspect=True), SUSP, (None, HELD), Tally.SUSPECT, 1, 0
    ),
    "never reported and not reported now: nothing": Row(None, CLEAR, None, None, Tally.NONE),
    # pending
    "pending seen enough runs: confirmed, open": Row(
        was(PEND), seen(), OPEN, (PEND, "confirmed"), Tally.NEW, 2, 0, policy=TWO_TO_OPEN
    ),
    "pending seen, the rule not yet confirming: stays pending": Row(
        was(PEND), seen(confirmed=False), PEND, None, Tally.ONGOING, 2, 0
    ),
    "pending seen during a source anomaly: suspect": Row(
        was(PEND), seen(suspect=True), SUSP, (PEND, HELD), Tally.SUSPECT, 2, 0
    ),
    "pending cleared: withdrawn, never announced": Row(
        was(PEND), CLEAR, DONE, (PEND, "withdrawn before it was confirmed"), Tally.WITHDRAWN, 1, 0
    ),
    # suspect
    "suspect seen without the anomaly and confirmed: open": Row(
        was(SUSP), seen(), OPEN, (SUSP, "confirmed by a run without the anomaly"), Tally.NEW, 2, 0
    ),
    "suspect seen without the anomaly, unconfirmed: released to pending": Row(
        was(SUSP),
        seen(confirmed=False),
        PEND,
        (SUSP, "released: a run without the anomaly still sees it"),
        Tally.PENDING,
        2,
        0,
    ),
    "suspect seen during the anomaly again: still suspect": Row(
        was(SUSP), seen(suspect=True), SUSP, None, Tally.SUSPECT, 2, 0
    ),
    "suspect cleared: withdrawn": Row(
        was(SUSP),
        CLEAR,
        DONE,
        (SUSP, "withdrawn: it came back after the source anomaly"),
        Tally.WITHDRAWN,
        1,
        0,
    ),
    # firing (open)
    "open seen again: ongoing, nothing announced": Row(
        was(OPEN), seen(), OPEN, None, Tally.ONGOING, 2, 0
    ),
    "open seen during an anomaly: announced already, ongoing": Row(
        was(OPEN), seen(suspect=True), OPEN, None, Tally.ONGOING, 2, 0
    ),
    "open cleared once: resolving, not yet resolved": Row(
        was(OPEN), CLEAR, OPEN, None, Tally.NONE, 1, 1
    ),
    "resolving seen again: the clears start over": Row(
        was(OPEN, clears=1), seen(), OPEN, None, Tally.ONGOING, 2, 0
    ),
    "resolving cleared resolve_after_runs times: resolved": Row(
        was(OPEN, clears=1), CLEAR, DONE, (OPEN, None), Tally.RESOLVED, 1, 2
    ),
    # resolved
    "resolved seen: reappeared, open again": Row(
        was(DONE, hits=5, resolved_at=EARLIER), seen(), OPEN, (DONE, "reopened"), Tally.NEW, 1, 0
    ),
    "resolved seen, unconfirmed: reappeared as pending": Row(
        was(DONE, resolved_at=EARLIER),
        seen(confirmed=False),
        PEND,
        (DONE, "reopened"),
        Tally.PENDING,
        1,
        0,
    ),
    "resolved seen during an anomaly: reappeared as suspect": Row(
        was(DONE, resolved_at=EARLIER),
        seen(suspect=True),
        SUSP,
        (DONE, "reopened; " + HELD),
        Tally.SUSPECT,
        1,
        0,
    ),
    "resolved and still cleared: nothing": Row(
        was(DONE, resolved_at=EARLIER), CLEAR, DONE, None, Tally.NONE, 1, 0, counted=False
    ),
    # acknowledged and snoozed
    "acknowledged seen: stays acknowledged": Row(was(ACK), seen(), ACK, None, Tally.ONGOING, 2, 0),
    "acknowledged cleared enough runs: resolved": Row(
        was(ACK, clears=1), CLEAR, DONE, (ACK, None), Tally.RESOLVED, 1, 2
    ),
    "snoozed seen before the snooze ends: stays snoozed": Row(
        was(SNOOZ, until=NOW + timedelta(days=1)), seen(), SNOOZ, None, Tally.ONGOING, 2, 0
    ),
    "snoozed seen after the snooze ended: open again": Row(
        was(SNOOZ, until=NOW), seen(), OPEN, (SNOOZ, "snooze ended"), Tally.NONE, 2, 0
    ),
    # dismissed: an accepted risk, until its condition changes
    "dismissed seen with the condition it accepted: stays dismissed": Row(
        was(DISM, accepted=ACCEPTED), seen(), DISM, None, Tally.ONGOING, 2, 0
    ),
    "dismissed seen with another condition: reopened, open": Row(
        was(DISM, accepted=ACCEPTED),
        seen(condition=OTHER),
        OPEN,
        (DISM, CHANGED),
        Tally.NEW,
        2,
        0,
    ),
    "dismissed seen with another condition during an anomaly: stays dismissed": Row(
        was(DISM, accepted=ACCEPTED),
        seen(condition=OTHER, suspect=True),
        DISM,
        None,
        Tally.ONGOING,
        2,
        0,
    ),
    "dismissed seen, the condition not told: stays dismissed": Row(
        was(DISM, accepted=ACCEPTED), seen(condition=None), DISM, None, Tally.ONGOING, 2, 0
    ),
    "dismissed cleared once: resolving, still dismissed": Row(
        was(DISM, accepted=ACCEPTED), CLEAR, DISM, None, Tally.NONE, 1, 1
    ),
    "dismissed cleared resolve_after_runs times: resolved": Row(
        was(DISM, clears=1, accepted=ACCEPTED), CLEAR, DONE, (DISM, None), Tally.RESOLVED, 1, 2
    ),
    "dismissed, its rule not evaluated: neither advances nor resets": Row(
        was(DISM, accepted=ACCEPTED), NOT_EVALUATED, DISM, None, Tally.NONE, 1, 0, counted=False
    ),
    "resolved after a dismissal, seen again: a new episode, open": Row(
        was(DONE, resolved_at=EARLIER, accepted=ACCEPTED),
        seen(),
        OPEN,
        (DONE, "reopened"),
        Tally.NEW,
        1,
        0,
    ),
    # runs that prove nothing
    "unknown verdict: neither advances nor resets": Row(
        was(PEND, hits=3, clears=0), UNKNOWN, PEND, None, Tally.NONE, 3, 0, counted=False
    ),
    "not evaluated (incomplete sources): neither advances nor resets": Row(
        was(OPEN, clears=1), NOT_EVALUATED, OPEN, None, Tally.NONE, 1, 1, counted=False
    ),
    "not evaluated and unknown to the store: nothing": Row(
        None, NOT_EVALUATED, None, None, Tally.NONE
    ),
    "seen twice in one run: counted once": Row(
        was(PEND, last_run_id=RUN), seen(), PEND, None, Tally.NONE, 1, 0, counted=False
    ),
    "cleared twice in one run: counted once": Row(
        was(OPEN, clears=1, last_run_id=RUN), CLEAR, OPEN, None, Tally.NONE, 1, 1, counted=False
    ),
}


@pytest.mark.parametrize("row", ROWS.values(), ids=ROWS.keys())
def test_transition(row: Row) -> None:
    result = decide(row.previous, row.evaluation, row.policy)

    assert isinstance(result, Transition)
    assert result.tally is row.tally
    if row.status is None:
        assert result.state is None
        assert result.change is None
        return
    assert result.state is not None
    assert result.state.status is row.status
    assert (result.state.hits, result.state.clears) == (row.hits, row.clears)
    if row.event is None:
        assert result.change is None
    else:
        old, note = row.event
        assert result.change == StatusChange(old, row.status, RUN, NOW, note)
    if not row.counted:
        assert result.state == row.previous, "a run that proves nothing changes nothing"
        return
    assert result.state.last_run_id == RUN
    if row.evaluation.observed is Observed.SEEN:
        assert result.state.last_seen == NOW
    resolved_now = row.status is DONE and (row.previous is None or row.previous.status is not DONE)
    assert result.state.resolved_at == (NOW if resolved_now else None)


def test_a_new_finding_is_first_and_last_seen_now() -> None:
    state = decide(None, seen(), KEEP).state
    assert state is not None
    assert (state.first_seen, state.last_seen, state.last_run_id) == (NOW, NOW, RUN)


def test_a_snooze_that_ended_is_cleared_with_it() -> None:
    state = decide(was(SNOOZ, until=NOW - timedelta(hours=1)), seen(), KEEP).state
    assert state is not None
    assert state.until is None


def test_the_rules_own_resolve_count_is_honoured() -> None:
    three = LifecyclePolicy(open_after_runs=1, resolve_after_runs=3)
    state = decide(was(OPEN, clears=1), CLEAR, three).state
    assert state is not None
    assert (state.status, state.clears) == (OPEN, 2)


def test_a_reopened_dismissal_forgets_the_condition_it_accepted() -> None:
    for previous, evaluation in (
        (was(DISM, accepted=ACCEPTED), seen(condition=OTHER)),
        (was(DONE, resolved_at=EARLIER, accepted=ACCEPTED), seen()),
    ):
        state = decide(previous, evaluation, KEEP).state
        assert state is not None
        assert (state.status, state.accepted) == (OPEN, None)


def test_a_dismissal_that_holds_keeps_the_condition_it_accepted() -> None:
    state = decide(was(DISM, accepted=ACCEPTED), seen(), KEEP).state
    assert state is not None
    assert (state.status, state.accepted) == (DISM, ACCEPTED)
