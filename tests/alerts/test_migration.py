"""Migration 0003 (R15): the alerting tables go down and come back with data present, on
SQLite (batch mode) and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import inspect

from agent.alerts.config import AlertsConfig
from agent.alerts.outbox import plan_and_enqueue
from agent.store import Store
from agent.store.engine import downgrade, migrate
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
