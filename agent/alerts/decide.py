"""The pure decision (Alertmanager-style): given a finding's state, what one sink has heard of
it, the repeat interval, the silences and the time, send first / new / repeat / resolved, or
skip, with the reason. Also the routing filter of a sink. No I/O, no clock, no logging.

Decisions are made from *state*, not from this run's transitions, so planning twice is
harmless and a crash between the audit and the planning loses nothing: the next plan sees
the same state and the same history.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from agent.alerts.config import Silence
from agent.alerts.message import Action
from agent.alerts.settings import severity_rank
from agent.alerts.sinks.config import SinkBase


@dataclass(frozen=True, slots=True)
class FindingView:
    """The part of a finding the decision and the routing need."""

    fingerprint: str
    rule: str
    severity: str
    status: str
    customer_tenant_id: str | None = None


class _FindingLike(Protocol):
    @property
    def fingerprint(self) -> str: ...
    @property
    def rule(self) -> str: ...
    @property
    def severity(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def customer_tenant_id(self) -> str | None: ...


def view_of(finding: _FindingLike) -> FindingView:
    return FindingView(
        finding.fingerprint,
        finding.rule,
        str(finding.severity),
        str(finding.status),
        finding.customer_tenant_id,
    )


@dataclass(frozen=True, slots=True)
class History:
    """What one sink has been sent about one finding (one ``alert_state`` row)."""

    last_action: Action
    last_at: datetime
    open_episode: bool
    """A firing message went out and neither a resolve nor a waived resolve has since."""


@dataclass(frozen=True, slots=True)
class Decision:
    action: Action
    reason: str
    close_episode: bool = False
    """Skip, but record the episode as closed (the sink does not take resolves)."""

    @property
    def sends(self) -> bool:
        return self.action is not Action.SKIP


def _skip(reason: str, *, close: bool = False) -> Decision:
    return Decision(Action.SKIP, reason, close)


def active_silence(
    silences: Sequence[Silence],
    finding: FindingView,
    now: datetime,
) -> Silence | None:
    for silence in silences:
        if silence.matches(finding.customer_tenant_id, finding.rule, now):
            return silence
    return None


def decide(
    finding: FindingView,
    history: History | None,
    *,
    now: datetime,
    repeat_interval: timedelta,
    silences: Sequence[Silence] = (),
    send_resolved: bool = True,
) -> Decision:
    """One finding, one sink: what to send now, and why."""
    notified = history is not None and history.open_episode
    silence = active_silence(silences, finding, now)
    status = finding.status

    if status == "resolved":
        if not notified:
            return _skip("never notified on this sink: no resolve to send (guarantee resolve-once)")
        if not send_resolved:
            return _skip("this sink does not take resolves", close=True)
        if silence is not None:
            return _skip(f"silenced until {silence.expires_at.isoformat()}")
        return Decision(Action.RESOLVED, "notified earlier and now resolved")
    if status == "pending":
        return _skip("pending findings never notify (guarantee confirm-k-runs)")
    if status == "suspect":
        return _skip("held as suspect until the next run confirms (guarantee mass-loss-guard)")
    if status in ("acknowledged", "snoozed", "dismissed"):
        return _skip(f"{status}: no notifications until it is open again")
    if status != "open":
        return _skip(f"unknown status {status!r}")

    if silence is not None:
        return _skip(
            f"silenced until {silence.expires_at.isoformat()}"
            + (f" ({silence.comment})" if silence.comment else "")
        )
    if history is None:
        return Decision(Action.FIRST, "firing and never notified on this sink")
    if not history.open_episode:
        return Decision(Action.NEW, "firing again after its last episode closed")
    due = history.last_at + repeat_interval
    if now >= due:
        return Decision(Action.REPEAT, f"still firing; repeat interval of {repeat_interval} passed")
    return _skip(f"already notified; next repeat due at {due.isoformat()}")


def routes(
    sink: SinkBase,
    finding: FindingView,
    tags: Mapping[str, Sequence[str]],
) -> bool:
    """Whether ``sink`` wants ``finding`` at all: severity floor, rule list, customer tags."""
    if not sink.enabled:
        return False
    if severity_rank(finding.severity) > severity_rank(sink.min_severity):
        return False
    if sink.rules and finding.rule not in sink.rules:
        return False
    if sink.customer_tags:
        if finding.customer_tenant_id is None:
            return False
        have = tags.get(finding.customer_tenant_id.lower(), ())
        if not set(have) & set(sink.customer_tags):
            return False
    return True
