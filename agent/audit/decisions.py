"""A person's decision on a finding as one pure function: (where the finding stands, what was
asked, the time) → where it goes and the event that says who, when and why; or a refusal that
names what is wrong. No I/O: :func:`agent.acting.act` reads the finding and stores the result,
for the command line and the daemon's page alike.

ack: someone has it in hand, it stops repeating. snooze: put aside until a time in the
future. assign: give it an owner, its status unchanged. dismiss: an accepted risk, with a
reason, which holds until the finding's condition changes (``agent.audit.condition``).
reopen: an acknowledged, snoozed or dismissed finding is open again. None of them acts on a
resolved finding.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from agent.store.models import ACTIVE_STATUSES, FindingStatus
from agent.store.values import Decided

ACTOR_LIMIT = 200
OWNER_LIMIT = 120
REASON_LIMIT = 2000


class Act(StrEnum):
    ACK = "ack"
    SNOOZE = "snooze"
    ASSIGN = "assign"
    DISMISS = "dismiss"
    REOPEN = "reopen"


class Refused(ValueError):
    """A decision that cannot be made; the message names why, for the person who asked."""


@dataclass(frozen=True, slots=True)
class Request:
    act: Act
    actor: str
    """Who decides: a signed-in person's user principal name, or the login of a shell user."""
    reason: str = ""
    owner: str | None = None
    until: datetime | None = None


@dataclass(frozen=True, slots=True)
class Standing:
    """Where the finding stands: the part of it a decision reads."""

    status: FindingStatus
    until: datetime | None
    accepted: str | None
    condition: str
    """Its condition now: what a dismissal accepts."""


_FROM: dict[Act, frozenset[FindingStatus]] = {
    Act.ACK: ACTIVE_STATUSES,
    Act.SNOOZE: ACTIVE_STATUSES,
    Act.ASSIGN: ACTIVE_STATUSES,
    Act.DISMISS: ACTIVE_STATUSES,
    Act.REOPEN: frozenset(
        {FindingStatus.ACKNOWLEDGED, FindingStatus.SNOOZED, FindingStatus.DISMISSED}
    ),
}
_TO = {
    Act.ACK: FindingStatus.ACKNOWLEDGED,
    Act.SNOOZE: FindingStatus.SNOOZED,
    Act.DISMISS: FindingStatus.DISMISSED,
    Act.REOPEN: FindingStatus.OPEN,
}


def judge(standing: Standing, request: Request, now: datetime) -> Decided:
    """What ``request`` does to a finding standing as ``standing``; raises :class:`Refused`."""
    act = request.act
    actor = _text(request.actor, "who decides", ACTOR_LIMIT, required=True)
    reason = _text(request.reason, "the reason", REASON_LIMIT, required=act is Act.DISMISS)
    owner = _text(request.owner, "the owner", OWNER_LIMIT, required=act is Act.ASSIGN)
    if standing.status not in _FROM[act]:
        allowed = ", ".join(sorted(_FROM[act]))
        raise Refused(f"cannot {act} a finding that is {standing.status} (only: {allowed})")
    snooze = _until(request.until, now) if act is Act.SNOOZE else None
    until, accepted = snooze, standing.condition if act is Act.DISMISS else None
    if act is Act.ASSIGN:  # the owner changes, nothing else
        until, accepted = standing.until, standing.accepted
    return Decided(
        from_status=standing.status,
        status=_TO.get(act, standing.status),
        until=until,
        accepted=accepted,
        owner=owner or None,
        reason=reason or None,
        actor=actor,
        action=act.value,
        note=_note(reason, owner, snooze),
        at=now,
    )


def _text(value: str | None, what: str, limit: int, *, required: bool) -> str:
    """A person's words on one line: runs of whitespace (line breaks too) become one space."""
    text = " ".join((value or "").split())
    if required and not text:
        raise Refused(f"{what} is missing")
    if len(text) > limit:
        raise Refused(f"{what} is longer than {limit} characters")
    return text


def _until(until: datetime | None, now: datetime) -> datetime:
    if until is None:
        raise Refused("a snooze needs the time it ends")
    if until.tzinfo is None:
        raise Refused("the snooze's end needs a time zone")
    if until <= now:
        raise Refused(f"the snooze's end {until.isoformat()} is not in the future")
    return until


def _note(reason: str, owner: str, until: datetime | None) -> str:
    parts = [
        reason,
        f"owner {owner}" if owner else "",
        f"until {until.isoformat(timespec='minutes')}" if until else "",
    ]
    return "; ".join(p for p in parts if p)
