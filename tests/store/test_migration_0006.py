"""Migration 0006 (dismissals): the condition a dismissal accepted on ``finding``, who did what
on ``finding_event``; added to a 0005 store with data and taken away again, on SQLite (batch
mode) and PostgreSQL. Rows are written in plain SQL with the columns of revision 0005."""

from __future__ import annotations

from sqlalchemy import Engine, bindparam, inspect, text

from agent.store import Store
from agent.store.engine import downgrade, make_engine, migrate
from agent.store.types import UTCDateTime
from tests.conftest import T0

FINDING_0005 = (
    "INSERT INTO finding (fingerprint, rule, severity, status, subject, title, remediation, "
    "evidence, value_at_stake, first_seen, last_seen, hits, clears, owner) VALUES ('fp1', "
    "'link_missing', 'high', 'acknowledged', 's', 'PAL missing', '', '{}', 0, :at, :at, 1, 0, "
    "'ops')"
)
EVENT_0005 = (
    "INSERT INTO finding_event (fingerprint, at, from_status, to_status, note) "
    "VALUES ('fp1', :at, 'open', 'acknowledged', 'by ops')"
)


def _columns(engine: Engine, table: str) -> set[str]:
    return {c["name"] for c in inspect(engine).get_columns(table)}


def test_0006_adds_its_columns_to_a_0005_store_with_data_and_goes_down_to_it(
    store_url: str,
) -> None:
    engine = make_engine(store_url)
    migrate(engine, "0005")
    with engine.begin() as connection:
        for statement in (FINDING_0005, EVENT_0005):
            at = bindparam("at", type_=UTCDateTime())
            connection.execute(text(statement).bindparams(at), {"at": T0})

    migrate(engine)
    assert "accepted_condition" in _columns(engine, "finding")
    assert {"actor", "action"} <= _columns(engine, "finding_event")
    store = Store(engine)
    (kept,) = store.findings()
    assert (kept.status, kept.owner, kept.accepted_condition) == ("acknowledged", "ops", None)
    (event,) = store.finding_events("fp1")
    assert (event.note, event.actor, event.action) == ("by ops", None, None)

    downgrade(engine, "0005")
    assert "accepted_condition" not in _columns(engine, "finding")
    assert not {"actor", "action"} & _columns(engine, "finding_event")
    with engine.connect() as connection:
        assert connection.execute(text("SELECT owner FROM finding")).scalar_one() == "ops"
        notes = connection.execute(text("SELECT note FROM finding_event")).scalars().all()
        assert notes == ["by ops"]
    engine.dispose()
