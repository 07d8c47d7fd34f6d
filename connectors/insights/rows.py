"""The attribution rows of one insight report CSV, read one at a time.

A row without a customer tenant or an attribution type credits nobody and is skipped; a
required column missing, or a count that is not a number, makes the report malformed. The
columns accepted are :data:`connectors.insights.columns.COLUMNS`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import structlog

from connectors.errors import MalformedResponse
from connectors.http.fields import integer, number, text
from connectors.http.redact import escape
from connectors.insights.columns import (
    COLUMNS,
    normalise_column,
    normalise_month,
    normalise_partner_id,
    normalise_types,
    normalise_workload,
)

log = structlog.get_logger()


@dataclass(slots=True)
class AttributionRow:
    """One attribution type of one report row (a row listing several types makes one each)."""

    tenant: str
    workload: str
    type: str
    partner: str | None
    month: str | None
    subscription: str | None
    mau: int | None
    acr: float | None
    seats: int | None


def _counted(
    raw: list[str], line: int, cell: Callable[[list[str], str], str | None], origin: str
) -> tuple[int | None, int | None, float | None]:
    """Active users, seats and Azure revenue of a row; a non-number there is malformed."""

    def bad(name: str, value: str) -> MalformedResponse:
        return MalformedResponse(
            f"{origin}: line {line}: {name} is not a number: {escape(value, 40)}"
        )

    mau_text, seats_text, acr_text = cell(raw, "mau"), cell(raw, "seats"), cell(raw, "acr")
    mau = integer(mau_text) if mau_text else None
    seats = integer(seats_text) if seats_text else None
    acr = number(acr_text) if acr_text else None
    if mau_text and mau is None:
        raise bad("active users", mau_text)
    if seats_text and seats is None:
        raise bad("seats", seats_text)
    if acr_text and acr is None:
        raise bad("Azure revenue", acr_text)
    return mau, seats, acr


def read_rows(
    content: bytes | str, *, origin: str, workload: str | None = None
) -> list[AttributionRow]:
    """The attribution rows of one report CSV (BOM tolerated); ``workload``, when given, is the
    workload of every row (the dataset's)."""
    return list(iter_rows(content, origin=origin, workload=workload))


def iter_rows(
    content: bytes | str, *, origin: str, workload: str | None = None
) -> Iterator[AttributionRow]:
    """:func:`read_rows` one row at a time: bytes are decoded as they are parsed, so a report
    of any size costs its own bytes and one row, not a decoded copy and a list."""
    if isinstance(content, bytes):
        lines: Iterator[str] = io.TextIOWrapper(
            io.BytesIO(content), encoding="utf-8-sig", newline=""
        )
    else:
        lines = iter(io.StringIO(content.removeprefix("\ufeff"), newline=""))
    try:
        yield from _rows(csv.reader(lines), origin=origin, workload=workload)
    except UnicodeDecodeError:
        raise MalformedResponse(f"{origin}: the report is not UTF-8 text") from None


def _rows(
    reader: Iterator[list[str]], *, origin: str, workload: str | None
) -> Iterator[AttributionRow]:
    header = next(reader, None)
    if header is None:
        raise MalformedResponse(f"{origin}: the report is empty (no header)")
    index = {normalise_column(name): i for i, name in enumerate(header)}
    where: dict[str, int] = {}
    for field_name, names in COLUMNS.items():
        for name in names:
            if name in index:
                where[field_name] = index[name]
                break
    missing = [f for f in ("tenant", "type") if f not in where]
    if workload is None and "workload" not in where and "subscription" not in where:
        missing.append("workload")
    if missing:
        raise MalformedResponse(f"{origin}: the report lacks a column for {', '.join(missing)}")

    def cell(row: list[str], field_name: str) -> str | None:
        at = where.get(field_name)
        if at is None or at >= len(row):
            return None
        return text(row[at])

    skipped = 0
    for line, raw in enumerate(reader, start=2):
        if not any(c.strip() for c in raw):
            continue
        tenant, types = cell(raw, "tenant"), cell(raw, "type")
        subscription = cell(raw, "subscription")
        if workload is not None and workload != "azure":
            subscription = None  # the dataset's own subscription, not an Azure one
            row_workload: str | None = workload
        else:
            row_workload = normalise_workload(cell(raw, "workload"), subscription)
        if tenant is None or types is None or row_workload is None:
            skipped += 1  # unattributed rows (no tenant or no type) credit nobody
            continue
        mau, seats, acr = _counted(raw, line, cell, origin)
        for kind in normalise_types(types):
            yield AttributionRow(
                tenant=tenant.lower(),
                workload=row_workload,
                type=kind,
                partner=normalise_partner_id(cell(raw, "partner")),
                month=normalise_month(cell(raw, "month")),
                subscription=subscription.lower() if subscription else None,
                mau=mau,
                acr=acr,
                seats=seats,
            )
    if skipped:
        log.info("insights_rows_skipped", origin=escape(origin), rows=skipped)
