"""A person's decision as a table: (where the finding stands, what was asked) → where it goes,
what the event records, or the refusal. Pure: no store, no clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest

from agent.audit.decisions import Act, Refused, Request, Standing, judge
from agent.store.models import FindingStatus
from tests.conftest import T0

NOW = T0 + timedelta(days=3)
LATER = NOW + timedelta(days=7)
CONDITION, EARLIER_CONDITION = "a" * 32, "b" * 32
OPEN, ACK, SNOOZ = FindingStatus.OPEN, FindingStatus.ACKNOWLEDGED, FindingStatus.SNOOZED
DISM, DONE, PEND = FindingStatus.DISMISSED, FindingStatus.RESOLVED, FindingStatus.PENDING
WHO = "ana@partner.example"


def at(status: FindingStatus, *, until: object = None, accepted: str | None = None) -> Standing:
    return Standing(status, until, accepted, CONDITION)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Row:
    standing: Standing
    request: Request
    status: FindingStatus
    note: str
    until: object = None
    accepted: str | None = None
    owner: str | None = None


ROWS: dict[str, Row] = {
    "ack an open finding": Row(
        at(OPEN), Request(Act.ACK, WHO, "on it"), ACK, "on it", owner=None
    ),
    "ack with an owner": Row(
        at(OPEN), Request(Act.ACK, WHO, "", owner="ops team"), ACK, "owner ops team", owner="ops team"
    ),
    "ack a pending finding before it is announced": Row(at(PEND), Request(Act.ACK, WHO), ACK, ""),
    "snooze until a time to come": Row(
        at(OPEN), Request(Act.SNOOZE, WHO, "customer away", until=LATER), SNOOZ,
        f"customer away; until {LATER.isoformat(timespec='minutes')}", until=LATER,
    ),
    "assign keeps the status and the snooze": Row(
        at(SNOOZ, until=LATER), Request(Act.ASSIGN, WHO, owner="bo"), SNOOZ, "owner bo",
        until=LATER, owner="bo",
    ),
    "assign keeps a dismissal's condition": Row(
        at(DISM, accepted=EARLIER_CONDITION), Request(Act.ASSIGN, WHO, owner="bo"), DISM,
        "owner bo", accepted=EARLIER_CONDITION, owner="bo",
    ),
    "dismiss accepts the condition as it is now": Row(
        at(OPEN), Request(Act.DISMISS, WHO, "customer chose another partner"), DISM,
        "customer chose another partner", accepted=CONDITION,
    ),
    "dismiss again, with a new reason, accepts today's condition": Row(
        at(DISM, accepted=EARLIER_CONDITION), Request(Act.DISMISS, WHO, "still accepted"), DISM,
        "still accepted", accepted=CONDITION,
    ),
    "reopen a dismissed finding forgets the dismissal": Row(
        at(DISM, accepted=CONDITION), Request(Act.REOPEN, WHO, "risk no longer accepted"), OPEN,
        "risk no longer accepted",
    ),
    "reopen a snoozed finding ends the snooze": Row(
        at(SNOOZ, until=LATER), Request(Act.REOPEN, WHO), OPEN, ""
    ),
    "a reason's line breaks and runs of spaces become one space": Row(
        at(OPEN), Request(Act.DISMISS, WHO, "  accepted\n\tby  the board "), DISM,
        "accepted by the board", accepted=CONDITION,
    ),
}  # fmt: skip


@pytest.mark.parametrize("row", ROWS.values(), ids=ROWS.keys())
def test_decision(row: Row) -> None:
    decided = judge(row.standing, row.request, NOW)
    assert decided.from_status is row.standing.status
    assert decided.status is row.status
    assert (decided.until, decided.accepted, decided.owner) == (row.until, row.accepted, row.owner)
    assert decided.note == row.note
    assert (decided.actor, decided.action, decided.at) == (WHO, row.request.act.value, NOW)


REFUSALS: dict[str, tuple[Standing, Request, str]] = {
    "nothing acts on a resolved finding": (at(DONE), Request(Act.ACK, WHO), "is resolved"),
    "dismiss needs a reason": (at(OPEN), Request(Act.DISMISS, WHO, "  "), "reason is missing"),
    "assign needs an owner": (at(OPEN), Request(Act.ASSIGN, WHO), "owner is missing"),
    "someone must decide": (at(OPEN), Request(Act.ACK, " "), "who decides is missing"),
    "a snooze needs its end": (at(OPEN), Request(Act.SNOOZE, WHO), "needs the time it ends"),
    "a snooze ends in the future": (
        at(OPEN), Request(Act.SNOOZE, WHO, until=NOW), "not in the future"
    ),
    "reopen only what a person put aside": (at(OPEN), Request(Act.REOPEN, WHO), "is open"),
    "a reason has a length": (at(OPEN), Request(Act.ACK, WHO, "x" * 2001), "longer than 2000"),
}  # fmt: skip


@pytest.mark.parametrize("case", REFUSALS.values(), ids=REFUSALS.keys())
def test_refusal(case: tuple[Standing, Request, str]) -> None:
    standing, request, why = case
    with pytest.raises(Refused, match=why):
        judge(standing, request, NOW)
