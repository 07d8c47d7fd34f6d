"""The credit view the audit kept (``credit_line``, ``credit_view``): written in the audit's
transactions, a customer's lines replaced on each audit; read in one snapshot, filtered, ranked
and summed by the database.

Rows are plain column tuples (:data:`CREDIT_COLUMNS`): what a line means is the recognition
package's business (``agent.recognition.stored``), not the store's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, case, delete, func, insert, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from agent.store.models import RunStatus
from agent.store.repository.base import StoreBase
from agent.store.repository.bulk import BulkStatements
from agent.store.repository.tables import CREDIT_COLUMNS, CREDIT_LINE, CREDIT_VIEW, SYNC_RUN

_DELETE_CHUNK = 500


@dataclass(frozen=True, slots=True)
class CreditFilter:
    """Which lines: of these customers (tenant IDs, lower case), of these solution areas, and
    only those that do not count for us; ``None``: no narrowing."""

    customers: Sequence[str] | None = None
    areas: Sequence[str] | None = None
    not_counting: bool = False


def replace_credit_lines(
    session: Session,
    bulk: BulkStatements,
    customers: Sequence[str],
    rows: Sequence[tuple[Any, ...]],
) -> None:
    """The audit's lines of ``customers`` (tuples in :data:`CREDIT_COLUMNS` order) in place of
    whatever was kept of them before, of any run."""
    c = CREDIT_LINE.c
    for start in range(0, len(customers), _DELETE_CHUNK):
        chunk = list(customers[start : start + _DELETE_CHUNK])
        session.execute(delete(CREDIT_LINE).where(c.customer_tenant_id.in_(chunk)))
    if rows:
        bulk.credit_lines.run(session.connection(), rows)


def forget_credit_view(session: Session) -> None:
    """No view is whole while an audit replaces it customer by customer."""
    session.execute(delete(CREDIT_VIEW))


def mark_credit_view(
    session: Session, run_id: int, fingerprint: str, customers: int, now: datetime
) -> None:
    """The table now holds the whole view of ``run_id`` under ``fingerprint``: drop what is
    left of other runs or fingerprints (customers this audit no longer saw), and say so."""
    c = CREDIT_LINE.c
    session.execute(
        delete(CREDIT_LINE).where((c.run_id != run_id) | (c.fingerprint != fingerprint))
    )
    lines = session.scalar(select(func.count()).select_from(CREDIT_LINE)) or 0
    session.execute(delete(CREDIT_VIEW))
    session.execute(
        insert(CREDIT_VIEW).values(
            run_id=run_id,
            fingerprint=fingerprint,
            customers=customers,
            lines=lines,
            written_at=now,
        )
    )


class CreditMixin(StoreBase):
    @contextmanager
    def stored_credit(self, fingerprint: str) -> Iterator[StoredCredit | None]:
        """The credit view kept for the last finished run under ``fingerprint``, read in one
        snapshot of the database; ``None`` when it is not kept (the run is not audited yet, or
        was audited under another fingerprint)."""
        with self.engine.connect() as raw:
            options: dict[str, Any] = {"readonly": True}
            if self.dialect == "postgresql":
                options["isolation_level"] = "REPEATABLE READ"
            with Session(bind=raw.execution_options(**options)) as session:
                last = session.scalar(
                    select(SYNC_RUN.c.id)
                    .where(SYNC_RUN.c.status.in_((RunStatus.COMPLETE, RunStatus.PARTIAL)))
                    .order_by(SYNC_RUN.c.id.desc())
                    .limit(1)
                )
                mark = session.execute(
                    select(CREDIT_VIEW.c.run_id, CREDIT_VIEW.c.fingerprint)
                ).first()
                kept = mark is not None and last is not None and tuple(mark) == (last, fingerprint)
                yield StoredCredit(session, self.dialect, int(last or 0)) if kept else None

    def keep_credit_summary(
        self, run_id: int, fingerprint: str, summed: Callable[[StoredCredit], str]
    ) -> bool:
        """Keep the summary ``summed`` makes of the view of ``run_id`` under ``fingerprint``
        (JSON) beside its mark, where that view is the one kept for the last finished run.
        Whether it is kept (``False``: the database refused; ``credit`` sums the view itself)."""
        v = CREDIT_VIEW.c
        try:
            with self.stored_credit(fingerprint) as kept:
                if kept is None or kept.run_id != run_id:  # an older run's audit
                    return True
                summary = summed(kept)
            with self.write() as session:
                session.execute(
                    update(CREDIT_VIEW)
                    .where(v.run_id == run_id, v.fingerprint == fingerprint)
                    .values(summary=summary)
                )
        except SQLAlchemyError:
            return False
        return True

    def settle_credit_view(self) -> bool:
        """Once an audit has replaced the kept view: on PostgreSQL, ``VACUUM (ANALYZE)`` it, so
        that the planner knows its size and reads the summary from the indexes alone (an
        index-only scan needs its pages marked all-visible); autovacuum may be off, or come
        later. SQLite plans these queries well without. Whether it was done (``False``: the
        database refused; the view reads as it is)."""
        if self.dialect != "postgresql":
            return True
        try:
            with self.engine.connect() as conn:
                quiet = conn.execution_options(isolation_level="AUTOCOMMIT")
                quiet.exec_driver_sql("VACUUM (ANALYZE) credit_line")
        except SQLAlchemyError:
            return False
        return True


class StoredCredit:
    """The kept view of one run, in one read snapshot: its lines, ranked, and the sums the
    summary shows (``agent.store.repository.credit_sums``)."""

    def __init__(self, session: Session, dialect: str, run_id: int) -> None:
        self.session = session
        self.dialect = dialect
        self.run_id = run_id

    def where(self, chosen: CreditFilter) -> list[ColumnElement[bool]]:
        c = CREDIT_LINE.c
        out: list[ColumnElement[bool]] = [c.run_id == self.run_id]
        if chosen.customers is not None:
            out.append(c.customer_tenant_id.in_(list(chosen.customers)))
        if chosen.areas is not None:
            out.append(c.solution_area.in_(list(chosen.areas)))
        if chosen.not_counting:
            out.append(c.counts == 0)
        return out

    def text_order(self, column: Any) -> Any:
        """Text sorted by code point, as Python sorts it (PostgreSQL's collation would not)."""
        return column.collate("C") if self.dialect == "postgresql" else column

    def kept_summary(self) -> str | None:
        """The summary of the whole view the audit kept beside it (JSON), if it has."""
        v = CREDIT_VIEW.c
        found: str | None = self.session.scalar(select(v.summary).where(v.run_id == self.run_id))
        return found

    def customers(self, chosen: CreditFilter) -> set[str]:
        """The customers with at least one chosen line."""
        c = CREDIT_LINE.c
        query = select(c.customer_tenant_id).where(*self.where(chosen)).distinct()
        return set(self.session.scalars(query))

    def rows(self, chosen: CreditFilter) -> list[tuple[Any, ...]]:
        """The chosen lines in the view's order: lost first, then cannot verify, then counts;
        a known stake before "no data"; by unit group, the largest first within one; then by
        customer name, area, metric, track (and tenant, and the line's place, for ties)."""
        c, text = CREDIT_LINE.c, self.text_order
        query = (
            select(*(c[name] for name in CREDIT_COLUMNS))
            .where(*self.where(chosen))
            .order_by(
                c.counts,
                c.stake_value.is_(None),
                c.unit_rank,
                text(func.coalesce(c.stake_currency, "")),
                func.coalesce(c.stake_value, 0.0).desc(),
                text(c.customer_key),
                text(c.solution_area),
                text(c.metric),
                text(c.track),
                text(c.customer_tenant_id),
                c.position,
            )
        )
        return [tuple(row) for row in self.session.execute(query)]

    def tallies(
        self, chosen: CreditFilter, keys: Sequence[str], *, lost: bool = False
    ) -> list[Any]:
        """Per value of ``keys`` (columns): lines and customers; ``lost``: of the lines that do
        not count or cannot be verified only. PostgreSQL counts per customer first, in the
        order of the summary indexes (its ``count(DISTINCT ...)`` sorts every line); SQLite
        counts distinct customers along the index as it is."""
        c = CREDIT_LINE.c
        by = [c[k] for k in keys]
        where = [*self.where(chosen), *([c.counts < 2] if lost else [])]
        if self.dialect != "postgresql":
            distinct = func.count(c.customer_tenant_id.distinct())
            query = select(*by, func.count(), distinct).where(*where).group_by(*by)
        else:
            per_customer = (
                select(*by, func.count().label("lines"))
                .where(*where)
                .group_by(*by, c.customer_tenant_id)
                .subquery()
            )
            p = per_customer.c
            grouping = [p[k] for k in keys]
            query = select(*grouping, func.sum(p.lines), func.count()).group_by(*grouping)
        return [(*row[:-2], int(row[-2] or 0), int(row[-1])) for row in self.session.execute(query)]

    def stake_sums(
        self, chosen: CreditFilter, keys: Sequence[str], *, lost: bool = False
    ) -> list[Any]:
        """Per value of ``keys`` and unit kind (unit rank, currency): the sum over customers of
        each customer's largest known stake (``None``: none known), and the lines without
        data. A customer's lines share one population or one revenue: summing them would
        count it twice. Read from the summary indexes alone, in their order."""
        c = CREDIT_LINE.c
        kinds = [c.unit_rank, c.stake_currency]
        by = [c[k] for k in dict.fromkeys([*keys, "customer_tenant_id"])]
        per_customer = (
            select(
                *by,
                *kinds,
                func.max(c.stake_value).label("most"),
                (func.count() - func.count(c.stake_value)).label("unknown"),
            )
            .where(*self.where(chosen), *([c.counts < 2] if lost else []))
            .group_by(*by, *kinds)
            .subquery()
        )
        p = per_customer.c
        grouping = [*[p[k] for k in keys], p.unit_rank, p.stake_currency]
        query = select(*grouping, func.sum(p.most), func.sum(p.unknown)).group_by(*grouping)
        return list(self.session.execute(query))

    def losers(self, chosen: CreditFilter, limit: int) -> list[Any]:
        """The customers whose lost lines (not counting for us) carry the most: (tenant, name,
        lost lines), ranked as the report ranks customers: money (each currency's largest
        figure, added), then users, then seats, largest first; then by name."""
        c, text = CREDIT_LINE.c, self.text_order
        per_kind = (
            select(
                c.customer_tenant_id,
                func.max(c.customer_key).label("key"),  # one name a customer
                c.unit_rank,
                func.max(c.stake_value).label("most"),
                func.count().label("lines"),
            )
            .where(*self.where(chosen), c.counts == 0)
            .group_by(c.customer_tenant_id, c.unit_rank, c.stake_currency)
            .subquery()
        )
        p = per_kind.c

        def of(rank: int, how: Any) -> Any:
            return func.coalesce(how(case((p.unit_rank == rank, p.most))), 0.0)

        query = (
            select(p.customer_tenant_id, func.sum(p.lines))
            .group_by(p.customer_tenant_id)
            .order_by(
                of(0, func.sum).desc(),
                of(1, func.max).desc(),
                of(2, func.max).desc(),
                text(func.max(p.key)),
                text(p.customer_tenant_id),
            )
            .limit(limit)
        )
        ranked = [(str(tenant), int(lines)) for tenant, lines in self.session.execute(query)]
        # By the customer index; the run is checked here (on both columns, SQLite would walk
        # the run's whole summary index instead).
        names = {
            str(tenant): str(name)
            for tenant, name, run in self.session.execute(
                select(c.customer_tenant_id, c.customer_name, c.run_id)
                .where(c.customer_tenant_id.in_([t for t, _ in ranked]))
                .distinct()
            )
            if run == self.run_id
        }
        return [(tenant, names[tenant], lines) for tenant, lines in ranked]
