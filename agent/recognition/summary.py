"""The credit view in a few lines, for an estate whose lines no one can read one by one: the
lines per verdict, the lines that do not count or cannot be verified by reason and by solution
area and metric, and the customers that lose the most.

Stakes stay in their units (money per currency, users, seats; never added to one another). A
customer's lines share one population or one revenue, so a group's stake in a unit is each
customer's largest figure there, added across customers. Built by the database from the kept
view (:func:`from_store`) or, where the view is judged live, from its rows (:func:`summarize`):
the same figures either way.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

from agent.recognition.rows import CreditRow
from agent.recognition.stake import UNIT_ORDER
from agent.store import CreditFilter, StoredCredit

TOP = 20
"""How many of the customers that lose the most the summary names."""
GROUP_KEYS = ("counts", "reason", "solution_area", "metric")
_CODE = {False: 0, None: 1, True: 2}


@dataclass(frozen=True, slots=True)
class Figure:
    """One unit kind's stake: the total (``None``: no customer's figure is known) and how
    many lines have no figure."""

    unit: str
    currency: str | None
    total: float | None
    unknown: int


@dataclass(frozen=True, slots=True)
class Tally:
    lines: int
    customers: int
    figures: tuple[Figure, ...] = ()


@dataclass(frozen=True, slots=True)
class Group:
    """Lines of one verdict (0: does not count, 1: cannot verify), reason, area and metric."""

    counts: int
    reason: str
    area: str
    metric: str
    tally: Tally


@dataclass(frozen=True, slots=True)
class Loser:
    tenant: str
    name: str
    lines: int
    figures: tuple[Figure, ...]


@dataclass(frozen=True, slots=True)
class CreditSummary:
    lines: int
    customers: int
    verdicts: tuple[tuple[int, Tally], ...]
    """Verdict code (0 does not count, 1 cannot verify, 2 counts) and its lines."""
    groups: tuple[Group, ...]
    losers: tuple[Loser, ...]
    """The customers that lose the most, the most first (at most :data:`TOP`)."""


def to_json(summary: CreditSummary) -> str:
    """The summary as JSON, as the audit keeps it beside the view (:func:`from_json`)."""
    return json.dumps(asdict(summary), separators=(",", ":"))


def from_json(text: str) -> CreditSummary:
    """The summary :func:`to_json` wrote."""
    data = json.loads(text)

    def figures(items: list[dict[str, Any]]) -> tuple[Figure, ...]:
        return tuple(Figure(**item) for item in items)

    def tally(item: dict[str, Any]) -> Tally:
        return Tally(item["lines"], item["customers"], figures(item["figures"]))

    return CreditSummary(
        data["lines"],
        data["customers"],
        tuple((int(code), tally(item)) for code, item in data["verdicts"]),
        tuple(
            Group(g["counts"], g["reason"], g["area"], g["metric"], tally(g["tally"]))
            for g in data["groups"]
        ),
        tuple(
            Loser(x["tenant"], x["name"], x["lines"], figures(x["figures"])) for x in data["losers"]
        ),
    )


_UNITS = {rank: unit.value for unit, rank in UNIT_ORDER.items()}


def _figures(rows: Iterable[Sequence[Any]]) -> tuple[Figure, ...]:
    """(unit rank, currency, total, unknown) rows, in the order of unit groups."""
    ordered = sorted(rows, key=lambda r: (r[0], r[1] or ""))
    return tuple(
        Figure(
            _UNITS[rank], currency or None, None if total is None else round(total, 2), int(unknown)
        )
        for rank, currency, total, unknown in ordered
    )


def from_store(
    kept: StoredCredit,
    chosen: CreditFilter,
    top: int = TOP,
    *,
    verdicts: Sequence[Any] | None = None,
) -> CreditSummary:
    """The summary of the chosen lines of the kept view, summed by the database (``verdicts``:
    its lines and customers per verdict, where they were counted already)."""
    [(lines, customers)] = kept.tallies(chosen, ())
    stakes: dict[int, list[Any]] = defaultdict(list)
    for row in kept.stake_sums(chosen, ("counts",)):
        stakes[row[0]].append(row[1:])
    by_verdict = tuple(
        (code, Tally(n, c, _figures(stakes[code])))
        for code, n, c in sorted(verdicts or kept.tallies(chosen, ("counts",)))
    )
    width = len(GROUP_KEYS)
    by_group: dict[tuple[Any, ...], list[Any]] = defaultdict(list)
    for row in kept.stake_sums(chosen, GROUP_KEYS, lost=True):
        by_group[tuple(row[:width])].append(row[width:])
    groups = []
    for row in kept.tallies(chosen, GROUP_KEYS, lost=True):
        key = tuple(row[:width])
        groups.append(_group(key, Tally(row[width], row[width + 1], _figures(by_group[key]))))
    ranked = kept.losers(chosen, top)
    theirs: dict[str, list[Any]] = defaultdict(list)
    if ranked:
        lost = replace(chosen, customers=[t for t, _n, _l in ranked], not_counting=True)
        for row in kept.stake_sums(lost, ("customer_tenant_id",)):
            theirs[row[0]].append(row[1:])
    losers = tuple(Loser(t, name, int(n), _figures(theirs[t])) for t, name, n in ranked)
    return CreditSummary(lines, customers, by_verdict, _ordered(groups), losers)


def _group(key: tuple[Any, ...], tally: Tally) -> Group:
    counts, reason, area, metric = key
    return Group(int(counts), str(reason), str(area), str(metric), tally)


def _ordered(groups: Iterable[Group]) -> tuple[Group, ...]:
    return tuple(
        sorted(groups, key=lambda g: (g.counts, -g.tally.lines, g.reason, g.area, g.metric))
    )


class _Sums:
    """The figures of one set of lines, gathered line by line (:func:`summarize`)."""

    def __init__(self) -> None:
        self.lines = 0
        self.customers: set[str] = set()
        self.most: dict[tuple[str, tuple[int, str]], float | None] = {}
        self.unknown: dict[tuple[int, str], int] = defaultdict(int)

    def add(self, row: CreditRow) -> None:
        stake = row.line.stake
        kind = (UNIT_ORDER[stake.unit], stake.currency or "")
        self.lines += 1
        self.customers.add(row.customer_tenant_id)
        key = (row.customer_tenant_id, kind)
        before = self.most.get(key)
        if stake.value is None:
            self.unknown[kind] += 1
            self.most.setdefault(key, None)
        else:
            self.most[key] = stake.value if before is None else max(before, stake.value)
            self.unknown.setdefault(kind, 0)

    def tally(self) -> Tally:
        totals: dict[tuple[int, str], float | None] = {}
        for (_tenant, kind), value in self.most.items():
            known = totals.get(kind)
            if value is not None:
                totals[kind] = value if known is None else known + value
            else:
                totals.setdefault(kind, None)
        rows = [(*kind, totals[kind], self.unknown[kind]) for kind in totals]
        return Tally(self.lines, len(self.customers), _figures(rows))

    def rank(self) -> tuple[float, float, float]:
        """As the report ranks customers (``agent.stakes.StakeSum.sort_key``)."""

        def of(rank: int) -> list[float]:
            return [v or 0.0 for (_t, kind), v in self.most.items() if kind[0] == rank]

        return (-sum(of(0)), -max(of(1), default=0.0), -max(of(2), default=0.0))


def summarize(rows: Sequence[CreditRow], top: int = TOP) -> CreditSummary:
    """The same summary from the view's rows, where it was judged live."""
    everything = _Sums()
    verdicts: dict[int, _Sums] = defaultdict(_Sums)
    groups: dict[tuple[Any, ...], _Sums] = defaultdict(_Sums)
    lost: dict[str, _Sums] = defaultdict(_Sums)
    names: dict[str, str] = {}
    for row in rows:
        line = row.line
        code = _CODE[line.counts_for_us]
        everything.add(row)
        verdicts[code].add(row)
        if code < 2:
            groups[(code, line.reason.value, line.solution_area, line.metric)].add(row)
        if code == 0:
            lost[row.customer_tenant_id].add(row)
            names[row.customer_tenant_id] = row.customer_name
    ranked = sorted(lost, key=lambda t: (*lost[t].rank(), names[t].lower(), t))[:top]
    return CreditSummary(
        everything.lines,
        len(everything.customers),
        tuple((code, verdicts[code].tally()) for code in sorted(verdicts)),
        _ordered(_group(key, sums.tally()) for key, sums in groups.items()),
        tuple(Loser(t, names[t], lost[t].lines, lost[t].tally().figures) for t in ranked),
    )
