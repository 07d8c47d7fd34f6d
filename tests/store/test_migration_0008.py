"""Migration 0008 (the kept credit view): ``credit_line`` and ``credit_view`` added to a 0007
store, exactly as the models declare them, and taken away again, on SQLite (batch mode) and
PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlmodel import SQLModel

from agent.store.engine import downgrade, make_engine, migrate

TABLES = {"credit_line", "credit_view"}


def test_0008_adds_the_kept_credit_view_as_the_models_say_and_goes_down_to_0007(
    store_url: str,
) -> None:
    engine = make_engine(store_url)
    migrate(engine, "0007")
    assert not TABLES & set(inspect(engine).get_table_names())

    migrate(engine)
    assert set(inspect(engine).get_table_names()) >= TABLES
    indexes = {i["name"] for i in inspect(engine).get_indexes("credit_line")}
    assert indexes >= {
        "ix_credit_line_customer",
        "ix_credit_line_verdicts",
        "ix_credit_line_reasons",
    }
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        # Differences about these two tables name them (a table, an index, a column's type).
        differences = [
            d
            for d in compare_metadata(context, SQLModel.metadata)
            if any(table in repr(d) for table in TABLES)
        ]
    assert differences == []

    downgrade(engine, "0007")
    assert not TABLES & set(inspect(engine).get_table_names())
    engine.dispose()
