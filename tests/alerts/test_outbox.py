"""Planning into the outbox inside the audit's transaction (guarantees dedup-and-repeat, grouping-silences, resolve-once, outbox), on SQLite and
PostgreSQL alike: one notification per sink until the repeat interval, resolves only for what
was notified, grouping, routing, silences."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from agent.alerts.config import AlertsConfig
from agent.alerts.message import Message
from agent.alerts.outbox import PlanSummary, plan_and_enqueue, tags_by_tenant
from agent.store import Store
from agent.store.alert_models import AlertOutbox, AlertState
from agent.store.models import Finding
from tests.alerts.support import CUSTOMER_A, CUSTOMER_B, finding, set_status
from tests.conftest import T0

SINKS: list[dict[str, Any]] = [
    {
        "type": "webhook",
        "name": "hook",
        "url": "http://127.0.0.1:9/hook",
        "allow_private": True,
        "secret": "0123456789abcdef",
    },
    {
        "type": "email",
        "name": "mail",
        "host": "smtp.example.com",
        "sender": "a@example.com",
        "to": ["ops@example.com"],
        "send_resolved": False,
    },
]


def config(**extra: Any) -> AlertsConfig:
    return AlertsConfig.model_validate({"sinks": SINKS, **extra})


def plan(
    store: Store,
    now: datetime,
    cfg: AlertsConfig | None = None,
    run_id: int = 1,
    tags: dict[str, Sequence[str]] | None = None,
) -> PlanSummary:
    with store.transaction() as tx:
        return plan_and_enqueue(
            tx.outbox,
            run_id=run_id,
            now=now,
            config=cfg or config(),
            customer_tags=tags,
            rule_titles={"link_missing": "Link missing"},
        )


def outbox(store: Store) -> list[AlertOutbox]:
    with store.read() as s:
        return list(s.scalars(select(AlertOutbox).order_by(AlertOutbox.id)))  # type: ignore[arg-type]


def add(store: Store, *findings: Finding) -> None:
    with store.write() as s:
        for f in findings:
            s.add(f)


def status(store: Store, fp: str, new: str) -> None:
    with store.write() as s:
        set_status(s, fp, new)


def test_an_open_finding_notifies_each_sink_once_per_repeat_interval(store: Store) -> None:
    add(store, finding("fp1", now=T0))
    first = plan(store, T0)
    assert first.by_sink == {"hook": 1, "mail": 1}
    for hour in range(
        1, 10
    ):  # ten audits while the condition persists (guarantee dedup-and-repeat)
        assert plan(store, T0 + timedelta(hours=hour), run_id=1 + hour).messages == 0
    repeat = plan(store, T0 + timedelta(hours=24), run_id=20)
    assert repeat.by_action == {"repeat": 2}
    assert plan(store, T0 + timedelta(hours=30), run_id=21).messages == 0
    rows = outbox(store)
    assert [(r.sink, r.kind) for r in rows] == [
        ("hook", "first"),
        ("mail", "first"),
        ("hook", "repeat"),
        ("mail", "repeat"),
    ]
    assert {r.dedup_key for r in rows} == {"fp1"}
    assert all(r.status == "pending" for r in rows)
    message = Message.from_json(rows[0].payload)
    assert message.items[0].customer_tenant_id == CUSTOMER_A
    assert message.idempotency_key == "fp1:first:r1"


def test_planning_twice_in_one_run_enqueues_nothing_more(store: Store) -> None:
    add(store, finding("fp1", now=T0))
    plan(store, T0)
    assert plan(store, T0).messages == 0
    assert len(outbox(store)) == 2


def test_pending_findings_never_notify_until_confirmed(store: Store) -> None:
    add(store, finding("fp1", status="pending", now=T0))
    assert plan(store, T0).messages == 0
    status(store, "fp1", "resolved")  # withdrawn before it was confirmed (guarantee confirm-k-runs)
    assert plan(store, T0 + timedelta(days=1), run_id=2).messages == 0
    status(store, "fp1", "open")
    assert plan(store, T0 + timedelta(days=2), run_id=3).by_action == {"first": 2}


def test_resolve_goes_only_to_sinks_that_were_told_and_want_resolves(store: Store) -> None:
    add(store, finding("fp1", now=T0), finding("fp2", status="pending", now=T0))
    plan(store, T0)
    status(store, "fp1", "resolved")
    status(store, "fp2", "resolved")
    resolved = plan(store, T0 + timedelta(days=1), run_id=2)
    assert resolved.by_sink == {"hook": 1}, "never-notified fp2 sends nothing; mail skips"
    (row,) = [r for r in outbox(store) if r.kind == "resolved"]
    assert row.dedup_key == "fp1"
    assert row.sink == "hook"
    assert plan(store, T0 + timedelta(days=2), run_id=3).messages == 0
    with store.read() as s:
        states = {
            (st.fingerprint, st.sink): st.open_episode for st in s.scalars(select(AlertState))
        }
    assert states == {("fp1", "hook"): False, ("fp1", "mail"): False}


def test_a_reopened_finding_starts_a_new_episode_with_a_new_idempotency_key(
    store: Store,
) -> None:
    add(store, finding("fp1", now=T0))
    plan(store, T0, config(sinks=SINKS[:1]))
    status(store, "fp1", "resolved")
    plan(store, T0 + timedelta(days=1), config(sinks=SINKS[:1]), run_id=2)
    status(store, "fp1", "open")
    again = plan(store, T0 + timedelta(days=2), config(sinks=SINKS[:1]), run_id=3)
    assert again.by_action == {"new": 1}
    keys = [Message.from_json(r.payload).idempotency_key for r in outbox(store)]
    assert keys == ["fp1:first:r1", "fp1:resolved:r2", "fp1:first:r3"]


def test_acknowledged_and_snoozed_findings_do_not_repeat(store: Store) -> None:
    add(store, finding("fp1", now=T0), finding("fp2", now=T0))
    plan(store, T0)
    status(store, "fp1", "acknowledged")
    status(store, "fp2", "snoozed")
    assert plan(store, T0 + timedelta(days=3), run_id=2).messages == 0


def test_five_hundred_new_findings_of_one_rule_make_one_message_per_sink(store: Store) -> None:
    add(
        store,
        *(
            finding(f"fp{n:03d}", now=T0, customer=f"{n:08d}-0000-0000-0000-000000000000")
            for n in range(500)
        ),
    )
    summary = plan(store, T0, config(group_max_items=10))
    assert summary.by_sink == {"hook": 1, "mail": 1}
    assert summary.by_action == {"first": 1000}
    row = outbox(store)[0]
    assert row.kind == "group"
    message = Message.from_json(row.payload)
    assert (message.total, len(message.items), message.omitted) == (500, 10, 490)
    assert message.title == "500 new findings: Link missing"
    with store.read() as s:
        assert s.scalar(select(func.count()).select_from(AlertState)) == 1000
    assert plan(store, T0 + timedelta(hours=1), run_id=2).messages == 0


def test_routing_sends_customers_to_their_account_manager_and_blind_spots_to_ops(
    store: Store,
) -> None:
    sinks = [
        {**SINKS[0], "name": "alice", "customer_tags": ["am-alice"]},
        {**SINKS[0], "name": "ops", "rules": ["cannot_verify"]},
    ]
    add(
        store,
        finding("a1", customer=CUSTOMER_A, now=T0),
        finding("b1", customer=CUSTOMER_B, now=T0),
        finding("cv", rule="cannot_verify", customer=None, now=T0),
    )

    class Row:
        def __init__(self, tenant_id: str, tags: tuple[str, ...]) -> None:
            self.tenant_id, self.tags = tenant_id, tags

    tags = tags_by_tenant([Row(CUSTOMER_A.upper(), ("am-alice",)), Row(CUSTOMER_B, ("am-bob",))])
    plan(store, T0, config(sinks=sinks), tags=dict(tags))
    sent = {(r.sink, r.dedup_key) for r in outbox(store)}
    assert sent == {("alice", "a1"), ("ops", "cv")}


def test_silence_suppresses_but_the_finding_notifies_once_after_expiry(store: Store) -> None:
    cfg = config(silences=[{"customer": CUSTOMER_A, "expires_at": T0 + timedelta(hours=12)}])
    add(store, finding("fp1", now=T0), finding("fp2", customer=CUSTOMER_B, now=T0))
    during = plan(store, T0, cfg)
    assert {r.dedup_key for r in outbox(store)} == {"fp2"}, "silenced fp1 stays quiet"
    assert during.messages == 2
    with store.read() as s:
        assert s.scalars(select(Finding).where(Finding.fingerprint == "fp1")).one()  # type: ignore[arg-type]
    assert plan(store, T0 + timedelta(hours=6), cfg, run_id=2).messages == 0
    after = plan(store, T0 + timedelta(hours=12), cfg, run_id=3)
    assert after.by_action == {"first": 2}
    assert plan(store, T0 + timedelta(hours=13), cfg, run_id=4).messages == 0


def test_outbox_rows_commit_and_roll_back_with_the_audit(store: Store) -> None:
    planned: list[PlanSummary] = []

    def audit_that_fails_after_planning() -> None:
        with store.transaction() as tx:
            tx.session.add(finding("fp1", now=T0))
            tx.session.flush()
            planned.append(
                plan_and_enqueue(tx.outbox, run_id=1, now=T0, config=config(), rule_titles={})
            )
            raise RuntimeError("the audit failed after planning")

    with pytest.raises(RuntimeError):
        audit_that_fails_after_planning()
    assert planned[0].messages == 2
    assert outbox(store) == []
    with store.read() as s:
        assert s.scalar(select(func.count()).select_from(AlertState)) == 0


def test_no_sinks_means_no_rows(store: Store) -> None:
    add(store, finding("fp1", now=T0))
    assert plan(store, T0, AlertsConfig()).messages == 0
    assert outbox(store) == []


def test_rule_titles_come_from_what_the_planner_is_given(store: Store) -> None:
    add(store, finding("fp1", rule="cannot_verify", customer=None, now=T0))
    add(store, finding("fp2", rule="gdap_ended", customer=None, now=T0))
    with store.transaction() as tx:
        plan_and_enqueue(
            tx.outbox,
            run_id=1,
            now=T0,
            config=config(sinks=SINKS[:1]),
            rule_titles={"cannot_verify": "Cannot verify"},
        )
    titles = {json.loads(row.payload)["rule_title"] for row in outbox(store)}
    assert titles == {"Cannot verify", "gdap ended"}, "a rule it was not given: named by its id"
