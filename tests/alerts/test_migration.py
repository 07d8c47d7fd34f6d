"""Migrations 0003 and 0005: the alerting tables go down and come back with data present,
on SQLite (batch mode) and PostgreSQL. Findings are read and written here in plain SQL with the
columns every revision has: the model's later columns do not exist below their migration."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine, bindparam, inspect, text

from agent.alerts.config import AlertsConfig
from agent.alerts.grouping import single
from agent.alerts.message import Action, AlertItem
from agent.alerts.outbox import enqueue, plan_and_enqueue
from agent.store import Outcome, Store
from agent.store.alert_models import DeliveryStatus, OutboxStatus
from agent.store.engine import downgrade, make_engine, migrate
from agent.store.types import UTCDateTime
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
    assert _fingerprints(store.engine) == ["fp1"], "earlier tables keep their data"
    migrate(store.engine)
    assert set(inspect(store.engine).get_table_names()) >= TABLES
    assert store.outbox_counts() == {}


def test_0005_adds_alert_references_to_a_0004_store_with_data_and_goes_down_to_it(
    store_url: str,
) -> None:
    engine = make_engine(store_url)
    migrate(engine, "0004")
    store = Store(engine)
    with store.transaction() as tx:
        tx.session.execute(
            text(INSERT_0004).bindparams(bindparam("at", type_=UTCDateTime())), {"at": T0}
        )
        item = AlertItem(
            fingerprint="fp1", rule="link_missing", severity="high", status="open", title="t"
        )
        first = single(item, Action.FIRST, run_id=1, now=T0, rule_title="Link missing")
        enqueue(tx.outbox, first, sink="hook", now=T0, run_id=1)
    assert "alert_reference" not in inspect(engine).get_table_names()

    migrate(engine)
    assert "alert_reference" in inspect(engine).get_table_names()
    assert [f.fingerprint for f in store.findings()] == ["fp1"], "0004's data is kept"
    (claim,) = store.claim_outbox(worker="w", now=T0, lease=timedelta(minutes=5))
    done = Outcome(DeliveryStatus.SENT, OutboxStatus.SENT)
    assert store.record_delivery(claim, done, worker="w", now=T0, references={"fp1": "INC-1"})
    assert store.references("hook", ["fp1"]) == {"fp1": "INC-1"}

    downgrade(engine, "0004")  # 0005 down (later revisions first)
    assert "alert_reference" not in inspect(engine).get_table_names()
    assert store.outbox_counts() == {"sent": 1}, "the alert tables before it keep their data"
    assert _fingerprints(engine) == ["fp1"]
    migrate(engine)
    assert store.references("hook", ["fp1"]) == {}
    engine.dispose()


INSERT_0004 = (
    "INSERT INTO finding (fingerprint, rule, severity, status, subject, title, remediation, "
    "evidence, value_at_stake, first_seen, last_seen, hits, clears) VALUES ('fp1', "
    "'link_missing', 'high', 'open', 'subject fp1', 'PAL missing', '', '{}', 0, :at, :at, 1, 0)"
)
"""A finding with the columns of revision 0004."""


def _fingerprints(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT fingerprint FROM finding ORDER BY id"))
        return [str(row[0]) for row in rows]
