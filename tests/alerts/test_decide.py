"""The pure decision function and the routing filter, as tables (guarantees confirm-k-runs, dedup-and-repeat, grouping-silences, resolve-once)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from agent.alerts.config import AlertsConfig, Silence
from agent.alerts.decide import FindingView, History, decide, routes
from agent.alerts.message import Action
from agent.alerts.sinks.webhook import WebhookSinkConfig
from tests.alerts.support import CUSTOMER_A, CUSTOMER_B

NOW = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)
DAY = timedelta(hours=24)


def view(
    status: str = "open",
    *,
    rule: str = "link_missing",
    customer: str | None = CUSTOMER_A,
    severity: str = "high",
) -> FindingView:
    return FindingView("fp1", rule, severity, status, customer)


def sent(ago: timedelta, action: Action = Action.FIRST, open_episode: bool = True) -> History:
    return History(action, NOW - ago, open_episode)


CASES = [
    # (finding status, history, expected action, reason fragment)
    ("open", None, Action.FIRST, "never notified"),
    ("open", sent(timedelta(hours=1)), Action.SKIP, "next repeat due"),
    ("open", sent(DAY - timedelta(seconds=1)), Action.SKIP, "next repeat due"),
    ("open", sent(DAY), Action.REPEAT, "repeat interval"),
    ("open", sent(3 * DAY, Action.REPEAT), Action.REPEAT, "repeat interval"),
    (
        "open",
        sent(timedelta(hours=1), Action.RESOLVED, open_episode=False),
        Action.NEW,
        "firing again",
    ),
    ("pending", None, Action.SKIP, "guarantee confirm-k-runs"),
    (
        "pending",
        sent(2 * DAY, Action.RESOLVED, open_episode=False),
        Action.SKIP,
        "guarantee confirm-k-runs",
    ),
    ("suspect", None, Action.SKIP, "guarantee mass-loss-guard"),
    ("acknowledged", sent(3 * DAY), Action.SKIP, "acknowledged"),
    ("snoozed", sent(3 * DAY), Action.SKIP, "snoozed"),
    ("snoozed", None, Action.SKIP, "snoozed"),
    ("dismissed", sent(3 * DAY), Action.SKIP, "dismissed"),
    ("dismissed", None, Action.SKIP, "dismissed"),
    ("resolved", None, Action.SKIP, "guarantee resolve-once"),
    ("resolved", sent(timedelta(hours=1)), Action.RESOLVED, "now resolved"),
    (
        "resolved",
        sent(timedelta(hours=1), Action.RESOLVED, open_episode=False),
        Action.SKIP,
        "guarantee resolve-once",
    ),
]


@pytest.mark.parametrize(("status", "history", "expected", "reason"), CASES)
def test_decision_table(
    status: str, history: History | None, expected: Action, reason: str
) -> None:
    decision = decide(view(status), history, now=NOW, repeat_interval=DAY)
    assert decision.action is expected
    assert reason in decision.reason


def test_repeat_interval_is_configurable() -> None:
    history = sent(timedelta(hours=2))
    assert (
        decide(view(), history, now=NOW, repeat_interval=timedelta(hours=1)).action is Action.REPEAT
    )
    assert (
        decide(view(), history, now=NOW, repeat_interval=timedelta(hours=3)).action is Action.SKIP
    )


def test_sink_that_skips_resolves_closes_the_episode_without_sending() -> None:
    decision = decide(
        view("resolved"),
        sent(timedelta(hours=1)),
        now=NOW,
        repeat_interval=DAY,
        send_resolved=False,
    )
    assert decision.action is Action.SKIP
    assert decision.close_episode


def test_silence_suppresses_then_a_still_firing_finding_notifies_once_after_expiry() -> None:
    silence = Silence(customer=CUSTOMER_A, expires_at=NOW + timedelta(hours=6), comment="migration")
    during = decide(view(), None, now=NOW, repeat_interval=DAY, silences=[silence])
    assert during.action is Action.SKIP
    assert "silenced" in during.reason
    assert "migration" in during.reason
    after = decide(
        view(), None, now=NOW + timedelta(hours=6), repeat_interval=DAY, silences=[silence]
    )
    assert after.action is Action.FIRST
    # ...and once it went out, the next run does not send again.
    history = History(Action.FIRST, NOW + timedelta(hours=6), True)
    again = decide(
        view(), history, now=NOW + timedelta(hours=7), repeat_interval=DAY, silences=[silence]
    )
    assert again.action is Action.SKIP


def test_silence_matches_customer_and_rule() -> None:
    until = NOW + DAY
    by_rule = Silence(rule="cannot_verify", expires_at=until)
    both = Silence(customer=CUSTOMER_B, rule="link_missing", expires_at=until)
    assert (
        decide(
            view(rule="cannot_verify"), None, now=NOW, repeat_interval=DAY, silences=[by_rule]
        ).action
        is Action.SKIP
    )
    assert (
        decide(view(), None, now=NOW, repeat_interval=DAY, silences=[by_rule]).action
        is Action.FIRST
    )
    assert (
        decide(
            view(customer=CUSTOMER_B), None, now=NOW, repeat_interval=DAY, silences=[both]
        ).action
        is Action.SKIP
    )
    assert (
        decide(
            view(customer=CUSTOMER_A), None, now=NOW, repeat_interval=DAY, silences=[both]
        ).action
        is Action.FIRST
    )


def test_silence_delays_a_resolve_until_it_expires() -> None:
    silence = Silence(customer=CUSTOMER_A, expires_at=NOW + timedelta(hours=1))
    history = sent(timedelta(hours=5))
    assert (
        decide(view("resolved"), history, now=NOW, repeat_interval=DAY, silences=[silence]).action
        is Action.SKIP
    )
    assert (
        decide(
            view("resolved"),
            history,
            now=NOW + timedelta(hours=1),
            repeat_interval=DAY,
            silences=[silence],
        ).action
        is Action.RESOLVED
    )


def test_silence_needs_a_matcher_and_a_zone() -> None:
    with pytest.raises(ValueError, match="customer, a rule"):
        Silence(expires_at=NOW)
    with pytest.raises(ValueError, match="zone"):
        Silence(rule="x", expires_at=datetime(2026, 1, 1))


def _sink(**kw: object) -> WebhookSinkConfig:
    data = {
        "type": "webhook",
        "name": "s",
        "url": "http://127.0.0.1/x",
        "allow_private": True,
        "secret": "x" * 16,
        **kw,
    }
    return AlertsConfig.model_validate({"sinks": [data]}).sinks[0]  # type: ignore[return-value]


def test_routing_by_severity_rule_and_customer_tags() -> None:
    tags = {CUSTOMER_A: ("am-alice", "gold"), CUSTOMER_B: ("am-bob",)}
    everything = _sink()
    assert routes(everything, view(customer=None, severity="info"), tags)

    floor = _sink(min_severity="high")
    assert routes(floor, view(severity="critical"), tags)
    assert routes(floor, view(severity="high"), tags)
    assert not routes(floor, view(severity="medium"), tags)

    ops = _sink(rules=["cannot_verify"])
    assert routes(ops, view(rule="cannot_verify"), tags)
    assert not routes(ops, view(rule="link_missing"), tags)

    alice = _sink(customer_tags=["am-alice"])
    assert routes(alice, view(customer=CUSTOMER_A), tags)
    assert not routes(alice, view(customer=CUSTOMER_B), tags)
    assert not routes(alice, view(customer=None), tags), "partner-level has no customer tags"

    off = _sink(enabled=False)
    assert not routes(off, view(), tags)
