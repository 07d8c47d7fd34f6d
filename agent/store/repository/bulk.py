"""Bulk writes for one dialect: multi-row ``INSERT ... ON CONFLICT`` statements compiled once,
chunked so no statement passes SQLite's bound-parameter limit."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from itertools import chain
from typing import Any, TypeVar

from sqlalchemy import (
    Connection,
    Dialect,
    String,
    Table,
    Text,
    bindparam,
    column,
    func,
    null,
    select,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.types import TypeDecorator

from agent.store.repository.tables import (
    CREDIT_COLUMNS,
    CREDIT_LINE,
    OBSERVATION,
    OBSERVATION_EVENT,
    SOURCE_STATUS,
)

MAX_BOUND_PARAMETERS = 32_766
"""SQLite's limit on bound parameters in one statement (SQLITE_MAX_VARIABLE_NUMBER since
3.32); PostgreSQL allows 65,535, so the smaller one bounds every statement."""

CHUNK_ROWS = 500
"""Records per chunk of a load: one lookup, one upsert, one stamp, one events insert."""

OBSERVATION_COLUMNS = (
    "kind",
    "source",
    "scope",
    "key",
    "customer_tenant_id",
    "payload",
    "payload_hash",
    "first_seen_at",
    "last_seen_at",
    "first_run_id",
    "last_run_id",
)
STATUS_COLUMNS = (
    "run_id",
    "source",
    "scope",
    "customer_tenant_id",
    "status",
    "error_kind",
    "error",
    "records",
    "finished_at",
    "as_of_run_id",
)

EVENT_COLUMNS = ("observation_id", "run_id", "at", "change", "payload")

T = TypeVar("T")


def rows_per_statement(columns: int) -> int:
    """Rows of ``columns`` bound values that fit one statement, capped at a few hundred (a
    longer statement is no faster and costs more to build)."""
    return max(1, min(CHUNK_ROWS, (MAX_BOUND_PARAMETERS - 10) // columns))


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


_LADDER = (256, 64, 16, 4, 1)


class _Bulk:
    """One multi-row ``INSERT ... ON CONFLICT`` of a table, built with the dialect's own insert
    construct (``sqlalchemy.dialects.sqlite/postgresql``) and compiled once.

    SQLite gets a multi-row ``VALUES`` statement, compiled once per row count (a dozen sizes:
    full pages, then a ladder of powers of four) because SQLAlchemy does not cache one and
    compiling it costs more than running it; no statement has more than
    :data:`MAX_BOUND_PARAMETERS` bound values. PostgreSQL gets ``INSERT ... SELECT ... FROM
    json_to_recordset(%s)``: the rows travel as one JSON parameter, since psycopg re-parses a
    long statement on every call and escapes every element of an array parameter. Both go
    through the DBAPI with positional parameters.
    """

    def __init__(
        self,
        dialect: Dialect,
        table: Table,
        columns: tuple[str, ...],
        finish: Callable[[Any], Any],
        *,
        returning: bool = False,
    ) -> None:
        self.dialect = dialect
        self.table = table
        self.columns = columns
        self.finish = finish
        self.returning = returning
        self.arrays = dialect.name == "postgresql"
        self.rows_per_statement = 5000 if self.arrays else rows_per_statement(len(columns))
        self._compile_as = (
            type(dialect)(paramstyle="format")  # type: ignore[call-arg]
            if self.arrays
            else dialect
        )
        self._sql: dict[int, str] = {}

    def sql(self, rows: int) -> str:
        key = 0 if self.arrays else rows
        known = self._sql.get(key)
        if known is not None:
            return known
        sql = self._repeated(rows) if rows > 2 and not self.arrays else None
        if sql is None:
            sql = self._compiled(rows)
        self._sql[key] = sql
        return sql

    def _repeated(self, rows: int) -> str | None:
        """The ``rows``-row statement written out from the one-row one: its ``VALUES`` group
        repeated, as SQLAlchemy writes it for two rows (checked), so a 500-row statement is
        not compiled bind parameter by bind parameter (5,500 of them, each costing more than
        running the statement). ``None`` when the dialect writes it some other way."""
        group = "(" + ", ".join(["?"] * len(self.columns)) + ")"
        one, two = self.sql(1), self.sql(2)
        if one.count(group) != 1 or two != one.replace(group, f"{group}, {group}"):
            return None
        return one.replace(group, ", ".join([group] * rows))

    def _compiled(self, rows: int) -> str:
        stmt: Any
        if self.arrays:
            rows_in = (
                func.json_to_recordset(bindparam("rows"))
                .table_valued(*[column(c, _plain_type(self.table.c[c])) for c in self.columns])
                .render_derived(name="r", with_types=True)
            )
            stmt = pg_insert(self.table).from_select(
                list(self.columns), select(*[rows_in.c[c] for c in self.columns])
            )
            expected = ["rows"]
        else:
            values = [
                {c: bindparam(f"{c}_{n}", type_=self.table.c[c].type) for c in self.columns}
                for n in range(rows)
            ]
            stmt = sqlite_insert(self.table).values(values)
            expected = [f"{c}_{n}" for n in range(rows) for c in self.columns]
        compiled = self.finish(stmt).compile(dialect=self._compile_as)
        if list(compiled.positiontup or ()) != expected:  # pragma: no cover - a new dialect
            raise RuntimeError(f"unexpected bind order for a bulk insert into {self.table.name}")
        return str(compiled)

    def run(self, conn: Connection, rows: Sequence[tuple[Any, ...]]) -> list[Any]:
        """Insert ``rows`` (tuples in column order, values already bound); the rows returned."""
        out: list[Any] = []
        start = 0
        while start < len(rows):
            left = len(rows) - start
            size = (
                min(left, self.rows_per_statement)
                if self.arrays
                else self.rows_per_statement
                if left >= self.rows_per_statement
                else next(step for step in _LADDER if step <= left)
            )
            chunk = rows[start : start + size]
            start += size
            if self.arrays:
                params: tuple[Any, ...] = (
                    json.dumps(
                        [dict(zip(self.columns, row, strict=True)) for row in chunk],
                        default=_json_value,
                        separators=(",", ":"),
                    ),
                )
            else:
                params = tuple(chain.from_iterable(chunk))
            result = conn.exec_driver_sql(self.sql(size), params)
            if self.returning:
                out.extend(result.fetchall())
        return out


def _json_value(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot send {type(value).__name__} in a bulk insert")


def _plain_type(column: Any) -> Any:
    """A column's type for reading rows out of JSON: strings without their length (the
    insert itself checks it), a type decorator as the type it stores."""
    kind = column.type
    if isinstance(kind, String):
        return Text()
    if isinstance(kind, TypeDecorator):
        return kind.impl
    return kind


class BulkStatements:
    """The store's bulk writes for one dialect."""

    def __init__(self, dialect: Dialect) -> None:
        status_key = ["run_id", "source", "scope"]
        self.timestamp_processor = OBSERVATION.c.last_seen_at.type.bind_processor(dialect)
        self.text_stamps = dialect.name == "sqlite"

        def status_upsert(stmt: Any) -> Any:
            return stmt.on_conflict_do_update(
                index_elements=status_key,
                set_={c: stmt.excluded[c] for c in STATUS_COLUMNS if c not in status_key},
            )

        def observation_upsert(stmt: Any) -> Any:
            # New: added. Known (changed or restored): payload, stamps, removal cleared;
            # first_seen stays.
            return stmt.on_conflict_do_update(
                index_elements=["source", "scope", "kind", "key"],
                set_={
                    "payload": stmt.excluded.payload,
                    "payload_hash": stmt.excluded.payload_hash,
                    "last_seen_at": stmt.excluded.last_seen_at,
                    "last_run_id": stmt.excluded.last_run_id,
                    "removed_at": null(),
                    "removed_run_id": null(),
                },
            ).returning(
                OBSERVATION.c.id,
                OBSERVATION.c.source,
                OBSERVATION.c.scope,
                OBSERVATION.c.kind,
                OBSERVATION.c.key,
            )

        self.observations = _Bulk(
            dialect, OBSERVATION, OBSERVATION_COLUMNS, observation_upsert, returning=True
        )
        self.events = _Bulk(dialect, OBSERVATION_EVENT, EVENT_COLUMNS, lambda stmt: stmt)
        self.statuses = _Bulk(dialect, SOURCE_STATUS, STATUS_COLUMNS, status_upsert)
        self.statuses_opened = _Bulk(
            dialect,
            SOURCE_STATUS,
            STATUS_COLUMNS,
            lambda stmt: stmt.on_conflict_do_nothing(index_elements=status_key),
        )

        self.credit_lines = _Bulk(dialect, CREDIT_LINE, CREDIT_COLUMNS, lambda stmt: stmt)

    def timestamp(self, value: datetime) -> Any:
        """A datetime as the driver takes it (naive UTC text on SQLite, aware on PostgreSQL).

        On SQLite the text is made here, once, as the driver's own adapter makes it
        (``isoformat(" ")``): given the datetime, the driver would make it again for every row
        of a bulk statement."""
        processor = self.timestamp_processor
        bound = processor(value) if processor is not None else value
        if self.text_stamps and isinstance(bound, datetime):
            return bound.isoformat(" ")
        return bound
