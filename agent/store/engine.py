"""Engine set-up and migrations: SQLite by default (WAL, busy timeout, BEGIN IMMEDIATE, 0600),
PostgreSQL by URL; Alembic upgrades under an advisory lock on PostgreSQL (guarantee migrations)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")
_MIGRATION_LOCK = 0x5041_524C  # "PARL": one advisory-lock key for schema upgrades


def _prepare_sqlite_file(database: str) -> None:
    """Create the SQLite file (and its folder) readable by its owner only (guarantee
    private-files)."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
        os.close(fd)
    for candidate in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        if candidate.exists():
            candidate.chmod(0o600)


def make_engine(url: str, **kw: Any) -> Engine:
    """An engine for ``url`` with the settings this store relies on."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        _prepare_sqlite_file(parsed.database or "")
        # Connections are handed out most-recently-used first, so the one writer of a sync
        # keeps reusing one connection instead of cycling through the pool: each SQLite
        # connection has its own page cache and prepared statements (a multi-row upsert
        # compiles to a large program), and there is no use warming every pooled connection
        # with them.
        if parsed.database and parsed.database != ":memory:":
            kw.setdefault("pool_use_lifo", True)  # a queue pool (in-memory ones have none)
        engine = create_engine(url, connect_args={"timeout": 30}, **kw)

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Any) -> None:
            # Writers take the write lock up front so they queue on busy_timeout instead of
            # failing on lock upgrade; readers stay deferred and, under WAL, never block.
            readonly = conn.get_execution_options().get("readonly", False)
            conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")

        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        url = str(parsed.set(drivername="postgresql+psycopg"))
    return create_engine(url, pool_pre_ping=True, **kw)


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config  # alembic loads only when a schema is to change

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def head_revision() -> str:
    """The newest migration's revision, from the file names (``0008_credit_view.py``: each
    file's name starts with its revision, one after another; a test holds alembic to it)."""
    names = (p.name.partition("_")[0] for p in (MIGRATIONS / "versions").glob("[0-9]*_*.py"))
    return max(names)


def at_head(engine: Engine) -> bool:
    """Whether the schema is already at the newest migration: one query, without alembic
    (which reads every migration script: a tenth of a second of every command)."""
    try:
        with engine.connect() as raw:  # a reader: on SQLite it takes no write lock
            conn = raw.execution_options(readonly=True)
            found = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
    except SQLAlchemyError:  # no schema yet
        return False
    return found == [head_revision()]


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision``; on PostgreSQL only one process at a time does so."""
    if revision == "head" and at_head(engine):
        return
    from alembic import command

    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _MIGRATION_LOCK})
            conn.commit()
            try:
                cfg = alembic_config(engine)
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, revision)
                conn.commit()
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _MIGRATION_LOCK})
                conn.commit()
        return
    with engine.connect() as conn:
        cfg = alembic_config(engine)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)
        conn.commit()
    if engine.dialect.name == "sqlite" and engine.url.database:
        _prepare_sqlite_file(engine.url.database)


def downgrade(engine: Engine, revision: str) -> None:
    from alembic import command

    with engine.connect() as conn:
        cfg = alembic_config(engine)
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)
        conn.commit()
