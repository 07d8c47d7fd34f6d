"""The credit view over the store: every customer's credit lines, judged on the snapshot the
audit judges (the last finished run's current observations and read statuses), in one order
that puts what we lose first and never weighs dollars against users.

Ranking: lines that do not count for us first, then those we cannot verify, then those that
count; within each, lines with a known stake before "no data"; then by unit group (money, one
group per currency; then monthly active users; then paid seats) and, within a group only, the
largest amount first; then customer, area and metric.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from agent.audit.snapshot import CustomerSnapshot, group_records
from agent.recognition.credit import evaluate
from agent.recognition.holdings import Us
from agent.recognition.model import Rulebook
from agent.recognition.rows import CreditRow, rank_key
from agent.recognition.stored import RowReader, fingerprint
from agent.recognition.summary import TOP, CreditSummary, from_json, from_store, summarize
from agent.store import CreditFilter, Store, StoredCredit
from connectors.records.record import Record

__all__ = [
    "CreditRow",
    "CreditView",
    "KeptView",
    "NothingToShow",
    "credit_view",
    "judged",
    "opened",
    "rank_key",
    "snapshots",
]


class NothingToShow(Exception):
    """No finished sync run exists yet: there is nothing to judge."""


class CreditView:
    """The chosen lines of the credit view of the last finished run, judged live (today's
    evaluation of every chosen customer); :class:`KeptView` reads the audit's instead."""

    kept = False

    def __init__(self, store: Store, us: Us, book: Rulebook, chosen: CreditFilter) -> None:
        self.store, self.us, self.book, self.chosen = store, us, book, chosen
        self._rows: list[CreditRow] | None = None

    def rows(self) -> list[CreditRow]:
        if self._rows is None:
            self._rows = judged(self.store, self.us, self.book, self.chosen)
        return self._rows

    def count(self) -> int:
        return len(self.rows())

    def summary(self, top: int = TOP) -> CreditSummary:
        return summarize(self.rows(), top)


class KeptView(CreditView):
    """The view the audit of the last finished run kept, under the same fingerprint: read,
    counted and summed by the database, in the same order as the live one."""

    kept = True

    def __init__(self, kept: StoredCredit, chosen: CreditFilter) -> None:
        self.stored, self.chosen = kept, chosen
        self._rows: list[CreditRow] | None = None
        self._tallies: list[Any] | None = None
        self._summary: CreditSummary | None = None

    def rows(self) -> list[CreditRow]:
        if self._rows is None:
            reader = RowReader()
            self._rows = [reader.row(row) for row in self.stored.rows(self.chosen)]
        return self._rows

    def count(self) -> int:
        if self._rows is not None:
            return len(self._rows)
        kept = self._kept_summary()
        if kept is not None:
            return kept.lines
        return sum(lines for _code, lines, _customers in self._verdicts())

    def summary(self, top: int = TOP) -> CreditSummary:
        """The summary the audit kept beside the view where the whole view is chosen, else
        summed by the database now."""
        kept = self._kept_summary() if top == TOP else None
        if kept is not None:
            return kept
        return from_store(self.stored, self.chosen, top, verdicts=self._verdicts())

    def _kept_summary(self) -> CreditSummary | None:
        """The summary of the whole view the audit kept, where the whole view is chosen."""
        if self.chosen != CreditFilter():
            return None
        if self._summary is None:
            text = self.stored.kept_summary()
            self._summary = from_json(text) if text is not None else None
        return self._summary

    def _verdicts(self) -> list[Any]:
        """Lines and customers per verdict: counted once, for the count and the summary."""
        if self._tallies is None:
            self._tallies = self.stored.tallies(self.chosen, ("counts",))
        return self._tallies


@contextmanager
def opened(
    store: Store,
    us: Us,
    book: Rulebook,
    *,
    customers: Sequence[str] | None = None,
    areas: Sequence[str] | None = None,
    not_counting: bool = False,
) -> Iterator[CreditView]:
    """The credit view of the chosen customers (all by default), filtered by solution area
    and, with ``not_counting``, to the lines that do not count for us: the one the audit kept
    where it is kept for the last finished run under today's partner IDs and rulebook, judged
    live otherwise (a run not audited yet; a changed partner ID; a customer the audit did not
    keep lines of). Valid inside the ``with`` block."""
    if store.last_finished_run() is None:
        raise NothingToShow("no finished sync run yet: run `partnerlink sync`")
    tenants = None if customers is None else sorted({c.lower() for c in customers})
    chosen = CreditFilter(tenants, None if areas is None else list(areas), not_counting)
    with store.stored_credit(fingerprint(us, book)) as kept:
        whole = kept is not None and (
            tenants is None or kept.customers(CreditFilter(tenants)) == set(tenants)
        )
        yield (
            KeptView(kept, chosen)
            if kept is not None and whole
            else CreditView(store, us, book, chosen)
        )


def credit_view(
    store: Store,
    us: Us,
    book: Rulebook,
    *,
    customers: Sequence[str] | None = None,
    areas: Sequence[str] | None = None,
    not_counting: bool = False,
) -> list[CreditRow]:
    """Every chosen credit line, ranked (see :func:`opened`)."""
    with opened(
        store, us, book, customers=customers, areas=areas, not_counting=not_counting
    ) as view:
        return view.rows()


def judged(store: Store, us: Us, book: Rulebook, chosen: CreditFilter) -> list[CreditRow]:
    """The chosen lines judged now, customer by customer, as the audit judges them."""
    rows: list[CreditRow] = []
    areas = chosen.areas
    for snapshot in snapshots(store, chosen.customers):
        for line in evaluate(snapshot, us, book):
            if areas is not None and line.solution_area not in areas:
                continue
            if chosen.not_counting and line.counts_for_us is not False:
                continue
            rows.append(CreditRow(snapshot.tenant_id, snapshot.name, line))
    return sorted(rows, key=rank_key)


def snapshots(
    store: Store, customers: Sequence[str] | None = None, *, batch: int = 500
) -> Iterator[CustomerSnapshot]:
    """Each customer's snapshot as the audit builds it: the current observations and the read
    statuses of the last finished run (the partner scope's and the customer's own)."""
    run = store.last_finished_run()
    if run is None or run.id is None:
        raise NothingToShow("no finished sync run yet: run `partnerlink sync`")
    statuses = store.statuses(run.id)
    partner = {k: v.status for k, v in statuses.items() if k[1] == "partner"}
    own: dict[str, dict[tuple[str, str], str]] = defaultdict(dict)
    for key, row in statuses.items():
        if row.customer_tenant_id:
            own[row.customer_tenant_id][key] = row.status
    tenants = sorted(
        {c.lower() for c in customers}
        if customers is not None
        else set(store.known_customers()) | set(own)
    )
    for start in range(0, len(tenants), batch):
        chunk = tenants[start : start + batch]
        records: dict[str, list[Record]] = defaultdict(list)
        for obs in store.current(customers=chunk):
            if obs.record.customer_tenant_id:
                records[obs.record.customer_tenant_id].append(obs.record)
        for tenant in chunk:
            yield CustomerSnapshot(
                tenant_id=tenant,
                records=group_records(records.get(tenant, ())),
                statuses={**partner, **own.get(tenant, {})},
            )
