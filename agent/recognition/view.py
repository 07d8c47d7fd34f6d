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
from dataclasses import dataclass
from typing import Any

from agent.audit.snapshot import CustomerSnapshot, group_records
from agent.recognition.credit import METRIC_NAMES, CreditLine, evaluate
from agent.recognition.holdings import Us
from agent.recognition.model import AREA_NAMES, Rulebook
from agent.recognition.stake import rank_key as stake_rank
from agent.store import Store
from connectors.records.record import Record

_COUNTS_ORDER = {False: 0, None: 1, True: 2}


class NothingToShow(Exception):
    """No finished sync run exists yet: there is nothing to judge."""


@dataclass(frozen=True, slots=True)
class CreditRow:
    """One credit line of one customer, with the customer's name for people."""

    customer_tenant_id: str
    customer_name: str
    line: CreditLine

    @property
    def holder_text(self) -> str:
        holder = self.line.holder
        if holder is None:
            return "-"
        return f"{holder.kind.upper()} · {holder.whose.value} · {holder.holder}"

    @property
    def counts_text(self) -> str:
        return {True: "yes", False: "no", None: "cannot verify"}[self.line.counts_for_us]

    def as_dict(self) -> dict[str, Any]:
        line, stake = self.line, self.line.stake
        holder, remedy = line.holder, line.remedy
        return {
            "customer_tenant_id": self.customer_tenant_id,
            "customer_name": self.customer_name,
            "solution_area": line.solution_area,
            "solution_area_name": AREA_NAMES[line.solution_area],
            "metric": line.metric,
            "metric_name": METRIC_NAMES[line.metric],
            "track": line.track,
            "rule_id": line.rule_id,
            "holder_kind": holder.kind.value if holder else None,
            "holder": holder.holder if holder else None,
            "whose": holder.whose.value if holder else None,
            "counts_for_us": line.counts_for_us,
            "reason": line.reason.value,
            "words": line.words,
            "stake": str(stake),
            "stake_value": stake.value,
            "stake_unit": stake.unit.value,
            "stake_currency": stake.currency,
            "stake_basis": stake.basis,
            "remedy": remedy.words if remedy else None,
            "remedy_kind": remedy.kind.value if remedy else None,
            "unchecked": list(line.unchecked),
            "sources": list(line.sources),
        }


def rank_key(row: CreditRow) -> tuple[Any, ...]:
    """The view's order (see the module's docstring)."""
    line, stake = row.line, row.line.stake
    return (
        _COUNTS_ORDER[line.counts_for_us],
        *stake_rank(stake.unit.value, stake.currency, stake.value),
        row.customer_name.lower(),
        line.solution_area,
        line.metric,
        line.track,
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
    """Every credit line of the chosen customers (all by default), filtered by solution area
    and, with ``not_counting``, to the lines that do not count for us; ranked."""
    rows: list[CreditRow] = []
    for snapshot in snapshots(store, customers):
        for line in evaluate(snapshot, us, book):
            if areas is not None and line.solution_area not in areas:
                continue
            if not_counting and line.counts_for_us is not False:
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
