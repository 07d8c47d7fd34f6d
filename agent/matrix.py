"""The association matrix: customer by workload by link kind: who holds it, since when, in what
state, and what is at stake. Built from the link table, the open gaps, and current usage."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from agent.audit.link import SELF
from agent.audit.snapshot import CustomerSnapshot, group_records
from agent.store import Store
from agent.store.values import LinkRow
from connectors.records.attribution import Attribution
from connectors.records.azure import AzureUsage
from connectors.records.customers import Contract, CspSubscription, Customer
from connectors.records.gdap import GdapRelationship
from connectors.records.licences import ActiveUsers, SubscribedSku
from connectors.records.pal import PalLink

GAP_RULES = ("link_missing", "link_held_by_other", "wrong_partner_id")


@dataclass(slots=True)
class MatrixRow:
    customer_tenant_id: str
    customer_name: str
    workload: str
    kind: str
    holder: str | None
    ours: bool
    carried_by: str | None
    state: str
    """present, wrong_id, held_by_other, missing, disappearing (pending), gone."""
    since: str | None
    last_seen: str | None
    stake: dict[str, Any] = field(default_factory=dict)
    since_from: str = "first seen"
    """``microsoft``: ``since`` is Microsoft's own date (a GDAP relationship's activation, a
    Partner Admin Link's last update, a CSP subscription's creation); ``first seen``: the time
    the agent first saw the link."""

    @property
    def gap(self) -> bool:
        return self.state != "present"

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["gap"] = self.gap
        return data


MATRIX_KINDS = (
    Customer.KIND,
    Contract.KIND,
    GdapRelationship.KIND,
    AzureUsage.KIND,
    Attribution.KIND,
    ActiveUsers.KIND,
    SubscribedSku.KIND,
    PalLink.KIND,
    CspSubscription.KIND,
)
"""The record kinds a row needs: the customer's name and what is at stake on a workload."""
NAME_KINDS = (Customer.KIND, Contract.KIND, GdapRelationship.KIND)
"""The record kinds a customer's name comes from (``CustomerSnapshot.name``)."""
MATRIX_KEYS = {ActiveUsers.KIND: ("office365",)}
"""Of the active users, the stake counts Microsoft 365's as a whole (``CustomerSnapshot.stake``)."""


def build_matrix(
    store: Store,
    our_ids: frozenset[str],
    *,
    global_id: str | None = None,
    disappeared_after: int = 2,
    customers: list[str] | None = None,
    gaps_only: bool = False,
    detailed: int = 0,
) -> list[MatrixRow]:
    """Every link (or, ``gaps_only``, every one that is not as it should be) and every open
    ``link_missing`` finding as a row. Only the customers that have a row are looked up, and
    only the records their name and stakes come from. ``detailed`` (a table of the first
    rows): only the first customers' rows carry their stake and date (:func:`_read`)."""
    links = (
        store.link_rows(customers, unless_held_by=[SELF, *our_ids], wrong_holder=global_id)
        if gaps_only
        else store.link_rows(customers)
    )
    states = [
        (link, ours, _state(link, ours, global_id, disappeared_after))
        for link in links
        for ours in (link.holder == SELF or link.holder in our_ids,)
    ]
    if gaps_only:
        states = [entry for entry in states if entry[2] != "present"]
    missing = _missing_findings(store, customers)
    tenants = sorted(
        {link.customer_tenant_id for link, _o, _s in states}
        | {f.customer_tenant_id or "" for f in missing}
        | set(customers or [])
    )
    every = customers is None and not gaps_only
    snapshots, detail = _read(store, states, missing, tenants, every, detailed)
    rows: list[MatrixRow] = []
    for link, ours, state in states:
        snap = snapshots[link.customer_tenant_id]
        full = link.customer_tenant_id in detail
        since = microsoft_since(link, snap) if full else None
        rows.append(
            MatrixRow(
                customer_tenant_id=link.customer_tenant_id,
                customer_name=snap.name,
                workload=link.workload,
                kind=link.kind,
                holder=None if link.holder == SELF else link.holder,
                ours=ours,
                carried_by=link.identity,
                state=state,
                since=(since or link.first_seen_at).isoformat(),
                last_seen=link.last_seen_at.isoformat(),
                stake=snap.stake(link.workload) if full else {},
                since_from="microsoft" if since else "first seen",
            )
        )
    rows += _missing(missing, snapshots, detail)
    rows.sort(key=lambda r: (r.customer_name.lower(), r.workload, r.kind))
    return rows


def _read(
    store: Store,
    states: list[tuple[LinkRow, bool, str]],
    missing: list[Any],
    tenants: list[str],
    every: bool,
    detailed: int,
) -> tuple[dict[str, CustomerSnapshot], set[str]]:
    """The customers' snapshots, and those whose rows carry their stakes and dates: every
    one, or (``detailed``) the first customers', the others' read for their names alone."""
    if not detailed:
        return _snapshots(store, tenants, None if every else tenants), set(tenants)
    named = _snapshots(store, tenants, tenants, NAME_KINDS)
    shown = sorted(_first_tenants(states, missing, named, detailed))
    return {**named, **_snapshots(store, shown, shown)}, set(shown)


def _snapshots(
    store: Store,
    tenants: list[str],
    only: list[str] | None,
    kinds: tuple[str, ...] = MATRIX_KINDS,
) -> dict[str, CustomerSnapshot]:
    """Each customer's current name and stake records (``only`` these customers' read, or
    every customer's when the view shows them all; ``kinds`` of them)."""
    by_tenant = store.current_records(kinds, only, keys=MATRIX_KEYS)
    return {
        t: CustomerSnapshot(tenant_id=t, records=group_records(by_tenant.get(t, ())), statuses={})
        for t in tenants
    }


def _first_tenants(
    states: list[tuple[LinkRow, bool, str]],
    missing: list[Any],
    named: dict[str, CustomerSnapshot],
    limit: int,
) -> set[str]:
    """The customers whose rows come first in the matrix's order, whole, until ``limit``
    distinct rows (``agent.present_matrix``'s count: rows differing only in what carries the
    link are one)."""
    order: list[tuple[tuple[str, str, str], str, tuple[Any, ...]]] = []
    for link, ours, state in states:
        tenant = link.customer_tenant_id
        holder = None if link.holder == SELF else link.holder
        order.append(
            (
                (named[tenant].name.lower(), link.workload, link.kind),
                tenant,
                (tenant, link.workload, link.kind, holder, ours, state),
            )
        )
    for finding in missing:
        tenant = finding.customer_tenant_id or ""
        kind, _, workload = finding.subject.partition(" on ")
        snap = named.get(tenant)
        name = finding.customer_name or (snap.name if snap else tenant)
        order.append(((name.lower(), workload, kind), tenant, (tenant, workload, kind, None)))
    order.sort(key=lambda entry: entry[0])
    seen: set[tuple[Any, ...]] = set()
    first: set[str] = set()
    previous: str | None = None
    for _key, tenant, distinct in order:
        if len(seen) >= limit and tenant != previous:
            break
        seen.add(distinct)
        first.add(tenant)
        previous = tenant
    return first


def microsoft_since(link: LinkRow, snap: CustomerSnapshot) -> datetime | None:
    """The date Microsoft gives for a link, where it gives one: a GDAP relationship's
    activation, the last update of a Partner Admin Link (when it took its partner ID), the
    creation of the CSP subscription an indirect reseller is named on."""
    if link.kind == "gdap":
        return _dates(snap, GdapRelationship).get(link.identity)
    if link.kind == "pal" and link.source == "arm.pal":
        return _dates(snap, PalLink).get(link.identity)
    if link.workload.startswith("csp:"):
        return _dates(snap, CspSubscription).get(link.workload.split(":", 1)[1])
    return None


_DATED: dict[type[Any], tuple[str, str]] = {
    GdapRelationship: ("relationship_id", "activated"),
    PalLink: ("identity", "updated"),
    CspSubscription: ("key", "created"),
}
"""Record type -> the field a link names it by, and Microsoft's date on it."""


def _dates(snap: CustomerSnapshot, cls: type[Any]) -> dict[str | None, datetime | None]:
    """Microsoft's dates on one kind of the customer's records, by the field a link names
    them by (the first record of each), worked out once per snapshot."""
    memo = f"dates:{cls.KIND}"
    known: dict[str | None, datetime | None] | None = snap.memo.get(memo)
    if known is None:
        name, date = _DATED[cls]
        known = {}
        for record in snap.of(cls):
            known.setdefault(getattr(record, name), getattr(record, date))
        snap.memo[memo] = known
    return known


def _state(link: LinkRow, ours: bool, global_id: str | None, disappeared_after: int) -> str:
    if link.missing_runs >= disappeared_after:
        return "gone"
    if link.missing_runs:
        return "disappearing"
    if not ours:
        return "held_by_other"
    if link.holder == global_id and link.kind in ("pal", "cpor"):
        return "wrong_id"
    return "present"


def _missing_findings(store: Store, customers: list[str] | None) -> list[Any]:
    return store.findings(
        statuses=["open", "acknowledged", "snoozed", "dismissed"],
        rules=["link_missing"],
        customers=customers,
    )


def _missing(
    findings: list[Any], snapshots: dict[str, CustomerSnapshot], detail: set[str]
) -> list[MatrixRow]:
    """A row per open ``link_missing`` finding: where a link is expected and none is held
    (its stake where its customer is ``detail``ed)."""
    rows: list[MatrixRow] = []
    for finding in findings:
        tenant = finding.customer_tenant_id or ""
        snap = snapshots.get(tenant) or CustomerSnapshot(tenant_id=tenant, records={}, statuses={})
        kind, _, workload = finding.subject.partition(" on ")
        rows.append(
            MatrixRow(
                customer_tenant_id=tenant,
                customer_name=finding.customer_name or snap.name,
                workload=workload,
                kind=kind,
                holder=None,
                ours=False,
                carried_by=None,
                state="missing",
                since=None,
                last_seen=None,
                stake=snap.stake(workload) if tenant in detail else {},
            )
        )
    return rows
