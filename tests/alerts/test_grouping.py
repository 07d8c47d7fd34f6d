"""Grouping per run and rule (guarantee grouping-silences): many findings, one message with counts and "and N more"."""

from __future__ import annotations

from datetime import UTC, datetime

from agent.alerts.grouping import group_messages
from agent.alerts.message import Action, AlertItem, Kind, Message

NOW = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)


def item(n: int, *, rule: str = "link_missing", severity: str = "high") -> AlertItem:
    return AlertItem(
        fingerprint=f"fp{n:04d}",
        rule=rule,
        severity=severity,
        status="open",
        title=f"PAL missing for customer {n}",
        customer_tenant_id=f"tenant-{n:04d}",
    )


def test_five_hundred_new_findings_of_one_rule_become_one_message() -> None:
    decided = [(item(n), Action.FIRST) for n in range(500)]
    messages = group_messages(
        decided, max_items=10, run_id=7, now=NOW, rule_titles={"link_missing": "Link missing"}
    )
    assert len(messages) == 1
    message = messages[0]
    assert message.kind is Kind.GROUP
    assert message.total == 500
    assert len(message.items) == 10
    assert message.omitted == 490
    assert message.more_text() == "and 490 more"
    assert len(message.fingerprints) == 500
    assert message.title == "500 new findings: Link missing"
    assert message.idempotency_key.endswith(":group:r7")


def test_group_lists_the_most_severe_first_and_takes_the_highest_severity() -> None:
    decided = [
        (item(1, severity="low"), Action.FIRST),
        (item(2, severity="critical"), Action.NEW),
        (item(3, severity="medium"), Action.FIRST),
    ]
    (message,) = group_messages(decided, max_items=2, run_id=1, now=NOW)
    assert [i.severity for i in message.items] == ["critical", "medium"]
    assert message.severity == "critical"
    assert message.omitted == 1


def test_a_lone_finding_gets_its_own_message_keyed_by_its_fingerprint() -> None:
    (message,) = group_messages([(item(1), Action.REPEAT)], max_items=10, run_id=3, now=NOW)
    assert message.kind is Kind.REPEAT
    assert message.dedup_key == "fp0001"
    assert message.idempotency_key == "fp0001:repeat:r3"


def test_rules_and_kinds_are_grouped_separately_and_skips_dropped() -> None:
    decided = [
        (item(1), Action.FIRST),
        (item(2), Action.FIRST),
        (item(3), Action.RESOLVED),
        (item(4), Action.RESOLVED),
        (item(5, rule="cannot_verify"), Action.FIRST),
        (item(6), Action.SKIP),
    ]
    messages = group_messages(decided, max_items=10, run_id=1, now=NOW)
    shapes = sorted((m.rule, m.kind.value, m.total) for m in messages)
    assert shapes == [
        ("cannot_verify", "first", 1),
        ("link_missing", "group", 2),
        ("link_missing", "group", 2),
    ]


def test_group_key_is_stable_and_message_survives_a_json_round_trip() -> None:
    decided = [(item(n), Action.FIRST) for n in range(3)]
    first = group_messages(decided, max_items=10, run_id=1, now=NOW)[0]
    again = group_messages(list(reversed(decided)), max_items=10, run_id=1, now=NOW)[0]
    assert first.dedup_key == again.dedup_key
    assert Message.from_json(first.to_json()) == first
