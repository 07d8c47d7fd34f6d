"""What every part of the repository stands on: the engine and its two kinds of session."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from typing import Self

from sqlalchemy import Engine
from sqlmodel import Session

from agent.store.engine import make_engine, migrate
from agent.store.repository.bulk import BulkStatements


class StoreBase:
    """The agent's database, SQLite or PostgreSQL."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def open(cls, url: str, *, upgrade: bool = True) -> Self:
        engine = make_engine(url)
        if upgrade:
            migrate(engine)
        return cls(engine)

    def close(self) -> None:
        self.engine.dispose()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A write transaction (``BEGIN IMMEDIATE`` on SQLite); committed on success."""
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only session; under WAL it never waits for a writer."""
        with self.engine.connect() as raw:
            conn = raw.execution_options(readonly=True)
            with Session(bind=conn, expire_on_commit=False) as session:
                yield session
                session.expunge_all()  # hand out detached, fully loaded objects

    @cached_property
    def _bulk(self) -> BulkStatements:
        return BulkStatements(self.engine.dialect)
