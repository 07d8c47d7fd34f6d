"""Migrations 0003 and 0005: the alerting tables go down and come back with data present,
on SQLite (batch mode) and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import inspect

from agent.alerts.config import AlertsConfig
from agent.alerts.outbox import plan_and_enqueue
from agent.store import Outcome, Store
from agent.store.alert_models import DeliveryStatus, OutboxStatus
from agent.store.engine import downgrade, make_engine, migrate
from tests.alerts.support import finding
from tests.conftest import T0

TABLES = {"alert_outbox", "alert_delivery", "alert_state"}
CONFIG = AlertsConfig.model_validate(
    {
        "sinks": [
            {
                "type": "webhook",
                "name": "hook",
                "url": "http://127.0.0.1:9/x",
                "allow_private": True,
                "secret": "0123456789abcdef",
            }
        ]
    }
)


def test_alert_tables_go_down_to_0002_and_up_again_with_data(store: Store) -> None:
    with store.transaction() as tx:
        tx.session.add(finding("fp1", now=T0))
        tx.session.flush()
        plan_and_enqueue(tx.outbox, run_id=1, now=T0, config=CONFIG, rule_titles={})
    assert store.outbox_counts() == {"pending": 1}
    downgrade(store.engine, "0002")
    assert not TABLES & set(inspect(store.engine).get_table_names())
    assert store.findings()[0].fingerprint == "fp1", "earlier tables keep their data"
    migrate(store.engine)
    assert set(inspect(store.engine).get_table_names()) >= TABLES
    assert store.outbox_counts() == {}


def test_0005_adds_alert_references_to_a_0004_store_with_data_and_goes_down_one(
    store_url: str,
) -> None:
    engine = make_engine(store_url)
    migrate(engine, "0004")
    store = Store(engine)
    with store.transaction() as tx:
        tx.session.add(finding("fp1", now=T0))
        tx.session.flush()
        plan_and_enqueue(tx.outbox, run_id=1, now=T0, config=CONFIG, rule_titles={})
    assert "alert_reference" not in inspect(engine).get_table_names()

    migrate(engine)
    assert "alert_reference" in inspect(engine).get_table_names()
    assert [f.fingerprint for f in store.findings()] == ["fp1"], "0004's data is kept"
    (claim,) = store.claim_outbox(worker="w", now=T0, lease=timedelta(minutes=5))
    sent = Outcome(DeliveryStatus.SENT, OutboxStatus.SENT)
    assert store.record_delivery(claim, sent, worker="w", now=T0, references={"fp1": "INC-1"})
    assert store.references("hook", ["fp1"]) == {"fp1": "INC-1"}

    downgrade(engine, "0004")  # 0005 down (later revisions first)
    assert "alert_reference" not in inspect(engine).get_table_names()
    assert store.outbox_counts() == {"sent": 1}, "the alert tables before it keep their data"
    assert [f.fingerprint for f in store.findings()] == ["fp1"]
    migrate(engine)
    assert store.references("hook", ["fp1"]) == {}
    engine.dispose()
