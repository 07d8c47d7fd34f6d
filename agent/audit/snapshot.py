"""What a rule sees: one customer's current observations, the run's read statuses, the links
derived from them, their presence history, and the partner's expectations.

Everything here is plain data and pure functions; the engine builds it from the store.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from agent.audit.link import TENANT, DerivedLink, Expectation
from agent.recognition.load import shipped_rulebook
from agent.recognition.model import SkuTable
from agent.recognition.stake import Stake, Unit, paid_seats
from agent.store.models import SETTLED_SCOPE
from agent.store.values import LinkState
from connectors.records.attribution import Attribution
from connectors.records.azure import AzureSubscription, AzureUsage
from connectors.records.customers import Contract, Customer
from connectors.records.gdap import GdapRelationship
from connectors.records.licences import ActiveUsers, SubscribedSku
from connectors.records.pal import Identity, PalLink
from connectors.records.record import Record
from connectors.records.scope import ScopeKind, Source, scope_for
from connectors.sources import SOURCES

PARTNER_SCOPED = frozenset(row.source for row in SOURCES if row.scope_kind is ScopeKind.PARTNER)

R = TypeVar("R", bound=Record)
_SETTLED = frozenset(str(status) for status in SETTLED_SCOPE)


@dataclass(slots=True)
class CustomerSnapshot:
    """One customer's world for the rules."""

    tenant_id: str
    records: dict[str, list[Record]]
    statuses: Mapping[tuple[str, str], str]
    """(source, scope) → status of this run, for this customer's scopes and the partner scope."""
    errors: Mapping[tuple[str, str], str] = field(default_factory=dict)
    links: list[DerivedLink] = field(default_factory=list)
    link_states: list[LinkState] = field(default_factory=list)
    expectations: tuple[Expectation, ...] = ()
    skus: SkuTable | None = None
    """The SKU table in force (the rulebook's); ``None``: the shipped one."""
    memo: dict[str, Any] = field(default_factory=dict)
    """What several rules and views derive from this snapshot once (the credit lines, stakes)."""

    def of(self, cls: type[R]) -> list[R]:
        return [r for r in self.records.get(cls.KIND, ()) if isinstance(r, cls)]

    @property
    def name(self) -> str:
        known = self.memo.get("name")
        if known is None:
            known = self.memo["name"] = self._name()
        return str(known)

    def _name(self) -> str:
        names = [c.name for c in self.of(Customer)]
        names += [c.display_name for c in self.of(Contract) if c.display_name]
        names += [r.customer_name for r in self.of(GdapRelationship) if r.customer_name]
        return next((n for n in names if n), self.tenant_id)

    def status(self, source: Source, identity: str | None = None) -> str | None:
        scope = "partner" if source in PARTNER_SCOPED else scope_for(self.tenant_id, identity)
        return self.statuses.get((source.value, scope))

    def complete(self, source: Source, identity: str | None = None) -> bool:
        """Whether the scope's observations are its current state: read completely in this
        run, or carried from such a read because the change feed shows no change since."""
        return self.status(source, identity) in _SETTLED

    def read_now(self, source: Source, identity: str | None = None) -> bool:
        """Whether this run read the scope completely itself: only such a read proves a link
        gone (a carried scope repeats an earlier read, it is no new evidence)."""
        return self.status(source, identity) == "complete"

    def failures(self) -> list[tuple[str, str, str, str]]:
        """(source, scope, status, error) of every read of this run that did not complete."""
        return [
            (src, scope, st, self.errors.get((src, scope), ""))
            for (src, scope), st in sorted(self.statuses.items())
            if st not in _SETTLED
        ]

    def identity(self, name: str) -> Identity | None:
        return next((i for i in self.of(Identity) if i.identity == name), None)

    def reachable_subscriptions(self, identities: Iterable[str]) -> set[str]:
        """Azure subscriptions any of our identities can reach."""
        wanted = set(identities)
        subs = {s.subscription_id for s in self.of(AzureSubscription)}
        for pal in self.of(PalLink):
            if pal.identity in wanted:
                subs.update(pal.subscriptions)
        return subs

    def stake(self, workload: str) -> dict[str, Any]:
        """What rides on a workload: ACR (USD/month), MAU, paid seats (paid SKUs only), as far
        as the data shows; each figure keeps its unit in its name. Worked out once per workload
        (a customer's links share their workloads)."""
        key = f"stake:{workload}"
        known = self.memo.get(key)
        if known is None:
            known = self.memo[key] = self._stake(workload)
        return dict(known)

    def _stake(self, workload: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if workload.startswith("azure:"):
            sub = workload.split(":", 1)[1]
            acr = [
                u.usd_total_cost
                for u in self.of(AzureUsage)
                if u.resource_id == sub and u.usd_total_cost is not None
            ]
            acr += [
                a.acr_usd
                for a in self.of(Attribution)
                if a.workload == workload and a.acr_usd is not None
            ]
            if acr:
                out["acr_usd"] = max(acr)
        elif workload in ("m365", TENANT):
            mau = [a.active_users for a in self.of(ActiveUsers) if a.workload == "office365"]
            mau += [
                a.monthly_active_users
                for a in self.of(Attribution)
                if a.workload == "m365" and a.monthly_active_users is not None
            ]
            if mau:
                out["mau"] = max(mau)
            if self.of(SubscribedSku):
                table = self.skus or shipped_rulebook().skus
                seats = paid_seats(self.of(SubscribedSku), table).paid_units
                if seats:
                    out["seats"] = seats
        if workload == TENANT:
            total = sum(u.usd_total_cost or 0.0 for u in self.of(AzureUsage))
            if total:
                out["acr_usd"] = total
        return out


def finding_stake(workload: str, figures: Mapping[str, Any]) -> Stake:
    """The one stake a finding is ranked by, in its own unit: Azure revenue (USD a month) where
    the data has it, else monthly active users, else paid seats; "no data" otherwise (in the
    workload's own unit), never 0. Findings rank within one unit only (agent.recognition.stake)."""
    if figures.get("acr_usd"):
        return Stake(Unit.MONEY, float(figures["acr_usd"]), "USD", "Azure consumed revenue a month")
    if figures.get("mau"):
        return Stake(Unit.USERS, float(figures["mau"]), None, "monthly active users")
    if figures.get("seats"):
        return Stake(Unit.SEATS, float(figures["seats"]), None, "paid seats")
    if workload.startswith("azure"):
        return Stake.no_data(Unit.MONEY, "Azure consumed revenue a month", "USD")
    return Stake.no_data(Unit.USERS, "monthly active users")


def group_records(records: Iterable[Record]) -> dict[str, list[Record]]:
    grouped: dict[str, list[Record]] = defaultdict(list)
    for record in records:
        grouped[record.KIND].append(record)
    return grouped
