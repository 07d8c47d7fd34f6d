"""A bulk insert of many rows is written out from the one-row statement, exactly as SQLAlchemy
compiles it, for every table and size the loads use."""

from __future__ import annotations

import pytest
from sqlalchemy.dialects import postgresql, sqlite

from agent.store.repository.bulk import _LADDER, CHUNK_ROWS, BulkStatements


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
