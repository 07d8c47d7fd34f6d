"""Alembic environment: runs on the connection the store hands over (batch mode on SQLite)."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import agent.store.alert_models  # registers the alerting tables on SQLModel.metadata
import agent.store.credit_models  # registers the kept credit view
import agent.store.models  # noqa: F401  - registers the tables on SQLModel.metadata

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - the store always passes one
    raise RuntimeError("run migrations through agent.store.engine.migrate()")

context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
