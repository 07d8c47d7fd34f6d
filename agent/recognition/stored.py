"""The credit view as the audit keeps it in the store (``credit_line``): a credit line to a row
of columns and back, exactly (a stored view and a live one are the same rows), and the
fingerprint of what a judgement rests on besides the snapshot.

The fingerprint covers the partner's IDs (:class:`Us`), the rulebook in force (its content
digest) and :data:`VIEW_VERSION`: a view judged under another configuration, or by a judgement
that has changed since, is never served; the view is then judged live until the next audit.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from agent.recognition.credit import CreditLine, Reason, Remedy, Shortfall
from agent.recognition.holdings import Holding, Us, Whose
from agent.recognition.model import Association, Rulebook, Threshold
from agent.recognition.rows import CreditRow
from agent.recognition.stake import UNIT_ORDER, Stake, Unit
from agent.store import CREDIT_COLUMNS
from connectors.records.scope import Source

VIEW_VERSION = 1
"""Raise it whenever what a credit line says changes (``agent.recognition.credit``'s judgement
or this module's columns): views kept by an older judgement are then judged again."""

COUNTS_CODE = {False: 0, None: 1, True: 2}
"""``counts_for_us`` as stored: the view's order (lost first, then cannot verify, then counts)."""
_COUNTS_OF = {code: counts for counts, code in COUNTS_CODE.items()}
_AT = {name: n for n, name in enumerate(CREDIT_COLUMNS)}


def fingerprint(us: Us, book: Rulebook) -> str:
    """What a credit line rests on besides the customer's snapshot, as one digest."""
    document = {
        "version": VIEW_VERSION,
        "tenant": us.tenant_id,
        "ids": sorted(us.partner_ids),
        "ids_for_kind": {kind: sorted(ids) for kind, ids in sorted(us.ids_for_kind.items())},
        "identities": list(us.identities),
        "global": us.global_id,
        "rulebook": book.digest,
    }
    text = json.dumps(document, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def to_columns(
    run_id: int, digest: str, name: str, position: int, line: CreditLine
) -> tuple[Any, ...]:
    """One credit line of one customer as a row in ``CREDIT_COLUMNS`` order."""
    holder, stake, remedy, short = line.holder, line.stake, line.remedy, line.shortfall
    values: dict[str, Any] = {
        "run_id": run_id,
        "fingerprint": digest,
        "customer_tenant_id": line.customer_tenant_id,
        "customer_name": name,
        "customer_key": name.lower(),
        "position": position,
        "solution_area": line.solution_area,
        "metric": line.metric,
        "track": line.track,
        "rule_id": line.rule_id,
        "counts": COUNTS_CODE[line.counts_for_us],
        "reason": line.reason.value,
        "holder_kind": holder.kind.value if holder else None,
        "whose": holder.whose.value if holder else None,
        "holder": holder.holder if holder else None,
        "holder_detail": _holder_detail(holder) if holder else None,
        "words": line.words,
        "stake_unit": stake.unit.value,
        "unit_rank": UNIT_ORDER[stake.unit],
        "stake_value": None if stake.value is None else float(stake.value),
        "stake_currency": stake.currency,
        "stake_basis": stake.basis,
        "remedy_kind": remedy.kind.value if remedy else None,
        "remedy_partner_id": remedy.partner_id if remedy else None,
        "remedy": remedy.words if remedy else None,
        "unchecked": json.dumps(list(line.unchecked)),
        "sources": json.dumps(list(line.sources)),
        "shortfall": _shortfall(short) if short else None,
    }
    return tuple(values[c] for c in CREDIT_COLUMNS)


def _holder_detail(holder: Holding) -> str:
    return json.dumps(
        {
            "families": sorted(holder.families),
            "workloads": sorted(holder.workloads),
            "evidence": holder.evidence,
            "source": holder.source.value,
            "variant": holder.variant,
        },
        sort_keys=True,
    )


def _shortfall(short: Shortfall) -> str:
    t = short.threshold
    threshold = [t.measure, t.op, t.value, t.unit, t.scope, t.needs, t.text]
    return json.dumps({"figure": short.figure, "threshold": threshold})


_REASONS = {r.value: r for r in Reason}
_KINDS = {a.value: a for a in Association}
_WHOSE = {w.value: w for w in Whose}
_UNITS = {u.value: u for u in Unit}
(
    _TENANT,
    _NAME,
    _AREA,
    _METRIC,
    _TRACK,
    _RULE,
    _COUNTS,
    _REASON,
    _WORDS,
    _UNCHECKED,
    _SOURCES,
    _SHORTFALL,
) = (
    _AT[name]
    for name in (
        "customer_tenant_id",
        "customer_name",
        "solution_area",
        "metric",
        "track",
        "rule_id",
        "counts",
        "reason",
        "words",
        "unchecked",
        "sources",
        "shortfall",
    )
)
_HOLDER = tuple(_AT[name] for name in ("holder_kind", "whose", "holder", "holder_detail"))
_STAKE = tuple(_AT[name] for name in ("stake_unit", "stake_value", "stake_currency", "stake_basis"))
_REMEDY = tuple(_AT[name] for name in ("remedy_kind", "remedy_partner_id", "remedy"))


class RowReader:
    """Stored rows back into the view's rows. Lines share their sources, holders, stakes and
    remedies (a customer's lines, one rule's sources): each distinct one is decoded once."""

    def __init__(self) -> None:
        self._lists: dict[str, tuple[str, ...]] = {}
        self._holders: dict[tuple[Any, ...], Holding] = {}
        self._stakes: dict[tuple[Any, ...], Stake] = {}
        self._remedies: dict[tuple[Any, ...], Remedy] = {}

    def row(self, row: tuple[Any, ...]) -> CreditRow:
        tenant = row[_TENANT]
        line = CreditLine(
            customer_tenant_id=tenant,
            solution_area=row[_AREA],
            metric=row[_METRIC],
            track=row[_TRACK],
            rule_id=row[_RULE],
            holder=self._holder(tuple(row[n] for n in _HOLDER)),
            counts_for_us=_COUNTS_OF[row[_COUNTS]],
            reason=_REASONS[row[_REASON]],
            words=row[_WORDS],
            stake=self._stake(tuple(row[n] for n in _STAKE)),
            remedy=self._remedy(tuple(row[n] for n in _REMEDY)),
            unchecked=self._list(row[_UNCHECKED]),
            sources=self._list(row[_SOURCES]),
            shortfall=_read_shortfall(row[_SHORTFALL]),
        )
        return CreditRow(tenant, row[_NAME], line)

    def _list(self, text: str) -> tuple[str, ...]:
        known = self._lists.get(text)
        if known is None:
            known = self._lists[text] = tuple(json.loads(text))
        return known

    def _holder(self, key: tuple[Any, ...]) -> Holding | None:
        if key[0] is None:
            return None
        known = self._holders.get(key)
        if known is None:
            kind, whose, holder, detail = key
            data = json.loads(detail)
            known = self._holders[key] = Holding(
                kind=_KINDS[kind],
                whose=_WHOSE[whose],
                holder=holder,
                families=frozenset(data["families"]),
                workloads=frozenset(data["workloads"]),
                evidence=data["evidence"],
                source=Source(data["source"]),
                variant=data["variant"],
            )
        return known

    def _stake(self, key: tuple[Any, ...]) -> Stake:
        known = self._stakes.get(key)
        if known is None:
            unit, value, currency, basis = key
            unit = _UNITS[unit]
            if value is not None and unit is not Unit.MONEY and float(value).is_integer():
                value = int(value)  # seats and users are counted: 140, not 140.0
            known = self._stakes[key] = Stake(unit, value, currency, basis)
        return known

    def _remedy(self, key: tuple[Any, ...]) -> Remedy | None:
        if key[0] is None:
            return None
        known = self._remedies.get(key)
        if known is None:
            known = self._remedies[key] = Remedy(_KINDS[key[0]], key[1], key[2])
        return known


def _read_shortfall(text: str | None) -> Shortfall | None:
    if text is None:
        return None
    data = json.loads(text)
    return Shortfall(data["figure"], Threshold(*data["threshold"]))
