"""A bulk insert of many rows is written out from the one-row statement, exactly as SQLAlchemy
compiles it, for every table and size the loads use; removal marks use the identity index."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.dialects import postgresql, sqlite

from agent.store import Store
from agent.store.repository.bulk import _LADDER, CHUNK_ROWS, BulkStatements
from agent.store.repository.loading import _removal_sql


@pytest.mark.parametrize("rows", [3, *_LADDER, CHUNK_ROWS])
def test_a_many_row_insert_is_the_statement_sqlalchemy_compiles(rows: int) -> None:
    statements = BulkStatements(sqlite.dialect())
    for bulk in (
        statements.observations,
        statements.events,
        statements.statuses,
        statements.statuses_opened,
    ):
        assert bulk.sql(rows) == bulk._compiled(rows), bulk.table.name


def test_postgresql_keeps_its_one_statement() -> None:
    bulk = BulkStatements(postgresql.dialect()).observations
    assert bulk.sql(500) == bulk.sql(1) == bulk._compiled(1)
    assert "json_to_recordset" in bulk.sql(500)


def test_removal_marks_walk_the_listed_scopes_only_on_sqlite(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'plan.db'}")
    scopes = [f"customer:{n}" for n in range(100)]
    try:
        with store.engine.connect() as conn:
            plan = " ".join(
                str(row[-1])
                for row in conn.exec_driver_sql(
                    # a batch of many customers' reads of one source, of one kind
                    "EXPLAIN QUERY PLAN " + _removal_sql("sqlite", len(scopes), 1),
                    ("2026-01-01", 1, "graph.usage_reports", *scopes, "active_users", 1),
                )
            )
    finally:
        store.close()
    assert "ix_observation_kind_current" not in plan
    assert "(source=? AND scope=?" in plan
