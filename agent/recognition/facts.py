"""One customer's figures for the credit view, read once from the snapshot: paid seats and
monthly active users per workload, Azure revenue in its currency, the associations held, our
Partner Admin Link gaps, and which reads did not complete (what we cannot verify).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from agent.recognition.holdings import Holding, Us, gather
from agent.recognition.model import Association, Rule, Rulebook
from agent.recognition.stake import SeatCount, Stake, Unit, paid_seats
from connectors.records.attribution import Attribution
from connectors.records.azure import AzureSubscription, AzureUsage
from connectors.records.licences import ActiveUsers, SubscribedSku
from connectors.records.pal import PalLink
from connectors.records.scope import Source

if TYPE_CHECKING:
    from agent.audit.snapshot import CustomerSnapshot

_NEEDS: Mapping[str, tuple[Source, ...]] = {
    "m365": (Source.GRAPH_SKUS, Source.GRAPH_DIRECTORY_SUBSCRIPTIONS),
    "security": (Source.GRAPH_SKUS, Source.GRAPH_DIRECTORY_SUBSCRIPTIONS),
    "business_apps": (Source.GRAPH_SKUS, Source.GRAPH_DIRECTORY_SUBSCRIPTIONS),
    "azure": (Source.ARM_SUBSCRIPTIONS,),
}
"""The reads a family's associations and figures rest on (PAL is read per identity: see
``Facts.pal_unread``)."""


@dataclass(frozen=True, slots=True)
class Revenue:
    """Azure revenue of the customer: one amount per ISO 4217 currency (never converted)."""

    amounts: Mapping[str, float]

    def in_currency(self, code: str) -> float | None:
        return self.amounts.get(code)


@dataclass(frozen=True, slots=True)
class Facts:
    tenant_id: str
    seats: SeatCount | None
    """``None``: the licence read did not complete."""
    mau: Mapping[str, int]
    """Monthly active users per Graph report workload (exchange, teams, ...)."""
    revenue: Revenue
    holdings: tuple[Holding, ...]
    pal_gaps: tuple[str, ...]
    """Why our identities' PAL earns nothing, in words (no link; no reach to the usage)."""
    blind: Mapping[str, tuple[str, ...]]
    """Family -> names of the reads it needs that did not complete in this run."""
    pal_unread: tuple[str, ...]
    """PAL reads (``arm.pal as <identity>``) that did not complete for this customer: a PAL
    of ours may be there unseen, so "our PAL is missing" cannot be said."""
    reports_read: bool
    azure_present: bool

    @classmethod
    def of(cls, snapshot: CustomerSnapshot, us: Us, book: Rulebook) -> Facts:
        skus_read = snapshot.complete(Source.GRAPH_SKUS)
        usage_subs = _usage_subscriptions(snapshot)
        return cls(
            tenant_id=snapshot.tenant_id,
            seats=paid_seats(snapshot.of(SubscribedSku), book.skus) if skus_read else None,
            mau={a.workload: a.active_users for a in snapshot.of(ActiveUsers)},
            revenue=_revenue(snapshot),
            holdings=tuple(gather(snapshot, us, book.skus, book.workloads, usage_subs)),
            pal_gaps=tuple(_pal_gaps(snapshot, us, usage_subs)),
            blind=_blind(snapshot),
            pal_unread=_pal_unread(snapshot, us),
            reports_read=snapshot.complete(Source.INSIGHTS),
            azure_present=bool(snapshot.of(AzureSubscription) or snapshot.of(AzureUsage)),
        )

    def users(self, rule: Rule, workload_id: str) -> int | None:
        workload = next(w for w in rule.workloads if w.id == workload_id)
        counts = [self.mau[name] for name in workload.activity if name in self.mau]
        return max(counts) if counts else None

    def stake(self, rule: Rule) -> Stake:
        """The rule's stake in its own unit: money for Azure, users for usage-based metrics of
        workloads with activity data, paid seats otherwise."""
        if rule.families == {"azure"}:
            if {w.id for w in rule.workloads} <= {"azure_security"}:
                return Stake.no_data(
                    Unit.MONEY, "Azure security revenue (not split by service)", "USD"
                )
            usd = self.revenue.in_currency("USD")
            if usd is not None or not self.revenue.amounts:
                return Stake(Unit.MONEY, usd, "USD", "Azure revenue, last month read")
            code, amount = sorted(self.revenue.amounts.items())[0]
            return Stake(Unit.MONEY, amount, code, "Azure revenue, last month read")
        if rule.metric != "net_customer_adds" and any(w.activity for w in rule.workloads):
            figures = [self.users(rule, w.id) for w in rule.workloads if w.activity]
            known = [f for f in figures if f is not None]
            return Stake(Unit.USERS, max(known) if known else None, None, "monthly active users")
        if self.seats is None:
            return Stake.no_data(Unit.SEATS, "paid seats")
        best = max((self.seats.seats(w.id) for w in rule.workloads), default=0)
        return Stake(Unit.SEATS, best, None, "paid seats of the largest workload")

    def present(self, rule: Rule) -> bool:
        """Whether the customer shows any trace of the rule's workloads. A Partner Admin Link
        is no such trace: it names who manages whatever the customer runs, not what it runs;
        nor is an insight-report row where the licences were read (a Dynamics row does not say
        whether it is Dynamics or Power Platform: the licences do)."""
        ids = frozenset(w.id for w in rule.workloads)
        if any(h.covers(rule.families, ids) for h in self.holdings if self._shows_workload(h)):
            return True
        if self.azure_present and (unseen_services(rule) or _whole_azure(rule)):
            return True
        if self.seats is not None and any(self.seats.seats(w) for w in ids):
            return True
        return any(self.users(rule, w.id) for w in rule.workloads if w.activity)

    def _shows_workload(self, holding: Holding) -> bool:
        if holding.source is Source.ARM_PAL:
            return False
        if holding.source is Source.INSIGHTS:
            return self.seats is None or "azure" in holding.families
        return True

    def workloads_unseen(self, rule: Rule) -> bool:
        """Whether a read that shows the rule's workloads (licences, Azure subscriptions) did
        not complete: the customer may have them unseen. A PAL read shows who manages, not
        what the customer runs, so it does not count here."""
        return any(self.blind.get(f) for f in rule.families)

    def blind_for(self, rule: Rule) -> tuple[str, ...]:
        """The reads the rule's answer rests on that did not complete (PAL reads only where
        the rule counts PAL)."""
        names = {name for f in rule.families for name in self.blind.get(f, ())}
        if Association.PAL in rule.kinds:
            names |= set(self.pal_unread)
        return tuple(sorted(names))


def _whole_azure(rule: Rule) -> bool:
    """The rule counts an Azure workload the snapshot can see: all of Azure (or all but some
    services), not a few services only."""
    return any(w.family == "azure" and not w.services for w in rule.workloads)


def unseen_services(rule: Rule) -> bool:
    """The rule counts only some Azure services (Azure security): the snapshot has Azure
    revenue per subscription, not per service, so whether the customer uses them is unseen."""
    return all(w.family == "azure" and w.services for w in rule.workloads)


def _usage_subscriptions(snapshot: CustomerSnapshot) -> frozenset[str]:
    subs = {u.resource_id.lower() for u in snapshot.of(AzureUsage) if (u.total_cost or 0) > 0}
    subs |= {
        a.workload.split(":", 1)[1].lower()
        for a in snapshot.of(Attribution)
        if a.workload.startswith("azure:") and (a.acr_usd or 0) > 0
    }
    return frozenset(subs)


def _revenue(snapshot: CustomerSnapshot) -> Revenue:
    amounts: dict[str, float] = {}
    for usage in snapshot.of(AzureUsage):
        if usage.usd_total_cost is not None:
            amounts["USD"] = amounts.get("USD", 0.0) + usage.usd_total_cost
        elif usage.total_cost is not None and usage.currency:
            code = usage.currency.upper()
            amounts[code] = amounts.get(code, 0.0) + usage.total_cost
    if "USD" not in amounts:
        reported = [a.acr_usd for a in snapshot.of(Attribution) if a.acr_usd is not None]
        if reported:
            amounts["USD"] = sum(reported)
    return Revenue(amounts)


def _pal_gaps(snapshot: CustomerSnapshot, us: Us, usage_subs: frozenset[str]) -> list[str]:
    gaps: list[str] = []
    for pal in snapshot.of(PalLink):
        if not snapshot.complete(Source.ARM_PAL, pal.identity):
            continue
        if pal.partner_id is None:
            gaps.append(f"our identity {pal.identity} carries no Partner Admin Link")
        elif us.ours(pal.partner_id) and usage_subs:
            missed = sorted(usage_subs - {s.lower() for s in pal.subscriptions})
            if missed and len(missed) == len(usage_subs):
                gaps.append(
                    f"our PAL on {pal.identity} reaches none of the subscriptions with usage "
                    f"({', '.join(missed)})"
                )
    return gaps


def _blind(snapshot: CustomerSnapshot) -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    for family, sources in _NEEDS.items():
        missing = [s.value for s in sources if not snapshot.complete(s)]
        if missing:
            out[family] = tuple(missing)
    return out


def _pal_unread(snapshot: CustomerSnapshot, us: Us) -> tuple[str, ...]:
    """Our identities' PAL reads for this customer that did not complete. An identity the run
    did not read here at all (a carrier meant for other tenants) is not a blind spot; no PAL
    read at all for the customer is."""
    statuses = {i: snapshot.status(Source.ARM_PAL, i) for i in us.identities}
    if all(status is None for status in statuses.values()):
        return (Source.ARM_PAL.value,)
    return tuple(
        f"{Source.ARM_PAL.value} as {identity}"
        for identity, status in statuses.items()
        if status is not None and not snapshot.complete(Source.ARM_PAL, identity)
    )
