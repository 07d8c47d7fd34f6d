"""Report rows merged into one attribution per customer, workload, attribution type and
partner id.

Rows of one customer, workload, type and partner id are merged: the newest month wins; within it
active users and seats take the largest value and Azure revenue is summed over distinct rows.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator

from connectors.insights.rows import AttributionRow, read_rows
from connectors.records.attribution import Attribution

_Group = tuple[str, str, str, str | None]
"""(customer, workload, attribution type, partner id): one :class:`Attribution`."""


class AttributionMerger:
    """Merges rows into one :class:`Attribution` per group as they come (see the module
    docstring): per group only the latest month and its distinct values are kept, never the
    rows, so reports of any length merge in memory proportional to the attributions. Strings
    repeated over rows (tenants, workloads, types) are shared, and a group seen with one value
    (the usual case) keeps that value alone."""

    def __init__(self) -> None:
        self._groups: dict[_Group, tuple[str | None, _Value | set[_Value]]] = {}

    def add(self, row: AttributionRow) -> None:
        group = (
            sys.intern(row.tenant),
            sys.intern(row.workload),
            sys.intern(row.type),
            sys.intern(row.partner) if row.partner else None,
        )
        value = (row.subscription, row.mau, row.acr, row.seats)
        held = self._groups.get(group)
        if held is None or (row.month or "") > (held[0] or ""):
            self._groups[group] = (row.month and sys.intern(row.month), value)
        elif row.month == held[0]:
            values = held[1]
            if isinstance(values, set):
                values.add(value)
            elif values != value:
                self._groups[group] = (held[0], {values, value})

    def extend(self, rows: Iterable[AttributionRow]) -> AttributionMerger:
        for row in rows:
            self.add(row)
        return self

    def __iter__(self) -> Iterator[Attribution]:
        """The merged records in (customer, workload, type, partner) order, each group let go
        as it is made: the records never all exist at once besides the groups."""
        order = sorted(self._groups, key=lambda g: (g[0], g[1], g[2], g[3] or ""))
        for group in order:
            month, values = self._groups.pop(group)
            yield _attribution(group, month, values if isinstance(values, set) else {values})

    def records(self) -> list[Attribution]:
        return list(self)


_Value = tuple[str | None, int | None, float | None, int | None]
"""(Azure subscription, active users, Azure revenue, seats) of one row."""


def _attribution(group: _Group, month: str | None, distinct: set[_Value]) -> Attribution:
    tenant, workload, kind, partner = group
    acr_values = [acr for _, _, acr, _ in distinct if acr is not None]
    mau_values = [mau for _, mau, _, _ in distinct if mau is not None]
    seat_values = [seats for _, _, _, seats in distinct if seats is not None]
    return Attribution(
        customer_tenant_id=tenant,
        workload=workload,
        attribution_type=kind,
        partner_id=partner,
        month=month,
        subscription_id=workload.split(":", 1)[1] if workload.startswith("azure:") else None,
        monthly_active_users=max(mau_values) if mau_values else None,
        acr_usd=sum(acr_values) if acr_values else None,
        seats=max(seat_values) if seat_values else None,
    )


def merge_rows(rows: Iterable[AttributionRow]) -> list[Attribution]:
    """One :class:`Attribution` per (customer, workload, type, partner id); see the docstring."""
    return AttributionMerger().extend(rows).records()


def parse_attribution_csv(
    content: bytes | str, *, origin: str = "insights report"
) -> list[Attribution]:
    """A whole report CSV -> merged :class:`Attribution` records."""
    return merge_rows(read_rows(content, origin=origin))
