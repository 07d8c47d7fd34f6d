"""The report page's four tables as data: who loses what (one row per customer, by stake), the
findings (open first), the credit lines lost to us (grouped per customer, holder, reason and
remedy), and the association matrix. Each row is a list of cells; the columns say how the page's
script shows a cell (text, number, lines, severity badge, state) and which cell it sorts by;
trailing cells hold what the script filters and searches by (rule, state, tenant ID, the row's
customer). Names replace GUIDs (``agent.names``); stakes keep their units (``agent.stakes``)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from agent.present import first_step, rule_title
from agent.present_matrix import KIND_WORDS, STATE_WORDS
from agent.recognition.present import group_title, grouped
from agent.recognition.stake import Unit
from agent.stakes import StakeSum, summed

if TYPE_CHECKING:
    from agent.report_data import ReportData
    from agent.rollup import CustomerRollup

SEVERITY_WEIGHT = {"critical": 1e8, "high": 1e6, "medium": 1e4, "low": 1e2, "info": 1}


@dataclass(frozen=True, slots=True)
class Column:
    label: str
    kind: str = "text"
    """text, num, lines, titled (lines, the first bold), badge (a severity), state (a matrix
    state) or customer (a button that narrows every table to the row's customer)."""
    sort: int | None = None
    """The cell to sort by, when not the shown one (a number, or [money, users, seats])."""
    nowrap: bool = False
    """Keep each line of the cell on one line (a stake, a date)."""


@dataclass(frozen=True, slots=True)
class Filter:
    label: str
    cell: int
    values: list[str]


class Strings:
    """One table of the page's repeated strings (names, titles, states, dates): a cell holds a
    string's number, the script looks it up; at 20,000 customers this keeps the page several
    times smaller than repeating each string in every row."""

    def __init__(self) -> None:
        self.index: dict[str, int] = {}

    def of(self, value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, list):
            return [self.of(v) for v in value]
        text = value if type(value) is str else str(value)
        index = self.index
        number = index.get(text)
        if number is None:
            number = index[text] = len(index)
        return number

    def all(self) -> list[str]:
        return list(self.index)


@dataclass(slots=True)
class PageTable:
    columns: list[Column]
    customer_cell: int
    """The cell holding the row's customer (its index among the customers, -1 for none); a
    ``customer`` column shows that customer's name, and search finds its name and tenant ID."""
    interned: tuple[int, ...] = ()
    """Cells given as numbers in the page's string table (``Strings``)."""
    filters: list[Filter] = field(default_factory=list)
    rows: list[list[Any]] = field(default_factory=list)
    empty: str = "nothing to show"

    def data(self, strings: Strings) -> dict[str, Any]:
        cells = sorted(set(self.interned))
        index, of = strings.index, strings.of
        rows = []
        for row in self.rows:
            out = list(row)
            for n in cells:
                value = out[n]
                if type(value) is str:  # most cells: looked up here, not through ``of``
                    number = index.get(value)
                    out[n] = index.setdefault(value, len(index)) if number is None else number
                elif type(value) is list and all(type(v) is str for v in value):
                    out[n] = [
                        index.setdefault(v, len(index)) if (k := index.get(v)) is None else k
                        for v in value
                    ]
                else:
                    out[n] = of(value)
            rows.append(out)
        return {
            "columns": [asdict(c) for c in self.columns],
            "customer": self.customer_cell,
            "interned": cells,
            "rows": rows,
            "empty": self.empty,
        }

    def add_filter(self, label: str, cell: int) -> None:
        values = sorted({str(row[cell]) for row in self.rows if row[cell] not in (None, "")})
        if 1 < len(values) <= 200:
            self.filters.append(Filter(label, cell, values))


def tables(data: ReportData) -> dict[str, PageTable]:
    index = {c.tenant_id: n for n, c in enumerate(data.customers)}
    return {
        "customers": _customers(data.customers),
        "findings": _findings(data, index),
        "recognition": _recognition(data, index),
        "matrix": _matrix(data, index),
    }


def _stake_key(stake: StakeSum) -> list[int]:
    return [round(-v) for v in stake.sort_key()]


def _customers(customers: list[CustomerRollup]) -> PageTable:
    table = PageTable(
        [
            Column("customer", "customer"),
            Column("owner"),
            Column("open findings", "lines", sort=9),
            Column("money at stake", "lines", sort=10, nowrap=True),
            Column("users at stake", "num"),
            Column("seats at stake", "num"),
            Column("credit lines lost", "num"),
            Column("gaps", "num"),
            Column("looked after", "num"),
        ],
        customer_cell=12,
        interned=(1, 2, 3, 13),
        empty="no customer yet: no sync has finished",
    )
    for n, c in enumerate(customers):
        money = [
            (kind, value)
            for kind, value in c.stake.figures().items()
            if kind[0] is Unit.MONEY and value is not None
        ]
        table.rows.append(
            [
                c.name,
                c.owner,
                [f"{c.open[s]} {s}" for s in SEVERITY_WEIGHT if c.open.get(s)],
                [
                    f"{value:,.0f} {currency or '(currency unknown)'}"
                    for (_u, currency), value in money
                ],
                c.stake.value(Unit.USERS),
                c.stake.value(Unit.SEATS),
                c.lost_lines,
                c.gaps,
                c.looked_after,
                round(
                    sum(SEVERITY_WEIGHT[s] * k for s, k in c.open.items() if s in SEVERITY_WEIGHT)
                ),
                round(sum(value for _kind, value in money)),
                c.tenant_id,
                n,
                c.worst or "none open",
            ]
        )
    table.add_filter("owner", 1)
    table.add_filter("worst open finding", 13)
    return table


def _findings(data: ReportData, index: dict[str, int]) -> PageTable:
    names = data.names
    table = PageTable(
        [
            Column("severity", "badge"),
            Column("status"),
            Column("customer", "customer"),
            Column("finding", "titled"),
            Column("at stake", "lines", sort=7, nowrap=True),
            Column("first seen", nowrap=True),
            Column("id"),
        ],
        customer_cell=2,
        interned=(0, 1, 3, 4, 5, 8),
        empty="no finding",
    )
    stakes = data.finding_stakes or [summed([f.get("evidence") or {}]) for f in data.findings]
    for f, stake in zip(data.findings, stakes, strict=True):
        tenant = (f.get("customer_tenant_id") or "").lower()
        customer = names.customer(tenant, f.get("customer_name")) if tenant else "(partner)"
        action = first_step(names.text(f.get("remediation") or ""))
        table.rows.append(
            [
                f["severity"],
                f["status"],
                index.get(tenant, -1),
                [
                    rule_title(f["rule"]),
                    names.text(f["title"], drop_customer=customer),
                    *([f"what to do: {action}"] if action else []),
                ],
                stake.lines(),
                f["first_seen"][:10],
                f["fingerprint"][:12],
                _stake_key(stake),
                rule_title(f["rule"]),
            ]
        )
    for label, cell in (("severity", 0), ("status", 1), ("rule", 8)):
        table.add_filter(label, cell)
    return table


def _recognition(data: ReportData, index: dict[str, int]) -> PageTable:
    names = data.names
    table = PageTable(
        [
            Column("customer", "customer"),
            Column("credit lines", "lines"),
            Column("holder"),
            Column("why it does not count", "titled"),
            Column("stake", "lines", sort=8, nowrap=True),
            Column("what would count"),
        ],
        customer_cell=0,
        interned=(1, 2, 3, 4, 5, 6, 7),
        empty="every credit line counts for us, or cannot be verified",
    )
    lost = [row for row in data.recognition if row.line.counts_for_us is False]
    for members in grouped(lost):
        row = members[0]
        line = row.line
        stake = StakeSum()
        for m in members:
            stake.add(m.line.stake)
        count = f"{len(members)} lines: " if len(members) > 1 else ""
        tenant = row.customer_tenant_id.lower()
        title = group_title(members)
        table.rows.append(
            [
                index.get(tenant, -1),
                [count + title],
                names.text(row.holder_text),
                [line.reason.value.replace("_", " "), names.text(line.words)],
                list(dict.fromkeys(str(m.line.stake) for m in members)),
                line.remedy.words if line.remedy else "-",
                title.split(":", 1)[0],
                line.reason.value.replace("_", " "),
                _stake_key(stake),
            ]
        )
    table.add_filter("solution area", 6)
    table.add_filter("why", 7)
    return table


def _matrix(data: ReportData, index: dict[str, int]) -> PageTable:
    names = data.names
    table = PageTable(
        [
            Column("customer", "customer"),
            Column("workload"),
            Column("link"),
            Column("holder"),
            Column("via"),
            Column("state", "state"),
            Column("since", nowrap=True),
            Column("stake", "lines", sort=9, nowrap=True),
        ],
        customer_cell=0,
        interned=(1, 2, 3, 4, 5, 6, 7, 8, 10),
        empty="no link seen yet",
    )
    stakes: dict[tuple[Any, ...], tuple[list[str], list[int]]] = {}
    for r in data.matrix:
        tenant = r.customer_tenant_id.lower()
        since = (r.since or "")[:10]
        key = tuple(sorted(r.stake.items()))
        if key not in stakes:  # rows of one customer and workload share their stake
            stake = summed([{"stake": r.stake}])
            stakes[key] = (stake.lines(), _stake_key(stake))
        lines, order = stakes[key]
        table.rows.append(
            [
                index.get(tenant, -1),
                names.workload(r.workload),
                KIND_WORDS.get(r.kind, r.kind.upper()),
                r.holder or ("us" if r.ours else "-"),
                r.carried_by or "",
                [r.state, STATE_WORDS.get(r.state, r.state)],
                since + ("" if not since or r.since_from == "microsoft" else " (first seen)"),
                lines,
                STATE_WORDS.get(r.state, r.state),
                order,
                r.workload,
            ]
        )
    table.add_filter("link", 2)
    table.add_filter("state", 8)
    return table
