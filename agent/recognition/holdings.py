"""Who holds which association at one customer, as the snapshot shows it: the licence owner
Graph reports, our Partner Center, the insight reports, our identities' Partner Admin Links.

The licence owner matters most: ``ownerTenantId`` on a customer's directory subscription is
"the Microsoft partner tenant that created the subscription" (Graph, companySubscription), so
a licence bought through another partner's tenant tells who transacts it, without any report.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from agent.recognition.model import Association, SkuKind, SkuTable, Workload
from connectors.records.attribution import Attribution
from connectors.records.azure import AzureUsage
from connectors.records.customers import CspSubscription
from connectors.records.licences import DirectorySubscription
from connectors.records.pal import PalLink
from connectors.records.scope import Source

if TYPE_CHECKING:
    from agent.audit.context import AuditContext
    from agent.audit.snapshot import CustomerSnapshot

_REPORT_KINDS = {
    "DPOR": Association.DPOR,
    "CPOR": Association.CPOR,
    "PAL": Association.PAL,
    "CSP": Association.CSP,
    "TPOR": Association.CSP,
    "RESELLER": Association.CSP,
}
_REPORT_FAMILIES = {"m365": "m365", "business_apps": "business_apps", "security": "security"}
_EMS_ALSO = frozenset({"intune"})
"""Workloads of the ``m365`` family that the security reports carry, not the Office ones: the
EMS (Enterprise Mobility + Security) dataset holds Intune."""
_GONE = frozenset({"deleted", "suspended", "lockedout"})


class Whose(StrEnum):
    OURS = "ours"
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Us:
    """The partner the credit is judged for."""

    tenant_id: str
    partner_ids: frozenset[str]
    ids_for_kind: Mapping[str, frozenset[str]]
    identities: tuple[str, ...] = ("partner-app",)
    global_id: str | None = None

    @classmethod
    def from_context(cls, ctx: AuditContext) -> Us:
        return cls(
            ctx.partner_tenant_id.lower(),
            ctx.our_ids,
            ctx.ids_for_kind,
            ctx.identities,
            ctx.global_partner_id,
        )

    def ours(self, partner_id: str | None) -> bool:
        return partner_id is not None and partner_id in self.partner_ids

    def wrong_id(self, kind: Association, partner_id: str) -> bool:
        """Whether a PAL, CPOR or DPOR of ours names an ID that earns nothing there: the global
        ID, or a location ID not meant for that link kind (domain.md: PAL and CPOR are meant
        to carry a location ID)."""
        if kind is Association.CSP or not self.ours(partner_id):
            return False
        if partner_id == self.global_id:
            return True
        meant = self.ids_for_kind.get(kind.value)
        return meant is not None and partner_id not in meant

    def id_for(self, kind: Association) -> str | None:
        """The location ID meant for a link kind (the one a remedy should name)."""
        meant = (
            self.ids_for_kind.get(kind.value)
            or (self.partner_ids - {self.global_id})
            or self.partner_ids
        )
        return min(meant) if meant else None


@dataclass(frozen=True, slots=True)
class Holding:
    """One association at the customer and whose it is."""

    kind: Association
    whose: Whose
    holder: str
    """A partner ID, or for a licence owner the partner tenant id."""
    families: frozenset[str]
    workloads: frozenset[str]
    """Rulebook workloads it covers; empty: every workload of its families."""
    evidence: str
    source: Source
    variant: str | None = None
    """``tier2`` for an indirect reseller, where the data says so."""

    def covers(self, families: frozenset[str], workloads: frozenset[str]) -> bool:
        if not self.families & families:
            return False
        return not self.workloads or bool(self.workloads & workloads)


def gather(
    snapshot: CustomerSnapshot,
    us: Us,
    table: SkuTable,
    workloads: Mapping[str, Workload],
    usage_subscriptions: frozenset[str],
) -> list[Holding]:
    """Every association the snapshot shows for the customer."""
    return [
        *_licence_owners(snapshot, us, table, workloads),
        *_partner_center(snapshot, us, workloads),
        *_reports(snapshot.of(Attribution), us, workloads),
        *_pal(snapshot.of(PalLink), us, usage_subscriptions, workloads),
    ]


def _licence_owners(
    snapshot: CustomerSnapshot, us: Us, table: SkuTable, workloads: Mapping[str, Workload]
) -> Iterable[Holding]:
    ours_in_pc = {s.subscription_id.lower(): s for s in snapshot.of(CspSubscription)}
    for sub in snapshot.of(DirectorySubscription):
        sku = table.find(sub.sku_part_number, sub.sku_id)
        if sku is None or sku.kind is not SkuKind.PAID or sub.is_trial:
            continue
        if (sub.status or "").lower() in _GONE:
            continue
        covered = frozenset(sku.workloads)
        families = frozenset(workloads[w].family for w in covered if w in workloads)
        what = f"{sub.total_licenses or 0} licences of {sku.part_number}"
        sold = ours_in_pc.get((sub.commerce_subscription_id or "").lower())
        if sold is not None and sold.partner_id and not us.ours(sold.partner_id):
            yield Holding(
                Association.CSP,
                Whose.OTHER,
                sold.partner_id,
                families,
                covered,
                f"{what} are resold by the indirect reseller {sold.partner_id} (CSP tier 2)",
                Source.PC_SUBSCRIPTIONS,
                "tier2",
            )
        elif sold is not None or (sub.owner_tenant_id or "").lower() == us.tenant_id:
            yield Holding(
                Association.CSP,
                Whose.OURS,
                us.tenant_id,
                families,
                covered,
                f"{what} are sold by us through CSP",
                Source.GRAPH_DIRECTORY_SUBSCRIPTIONS,
                "tier2" if sold is not None and sold.partner_id else None,
            )
        elif sub.owner_tenant_id and sub.owner_tenant_id.lower() != snapshot.tenant_id.lower():
            yield Holding(
                Association.CSP,
                Whose.OTHER,
                sub.owner_tenant_id.lower(),
                families,
                covered,
                f"{what} were bought through the partner tenant {sub.owner_tenant_id.lower()}",
                Source.GRAPH_DIRECTORY_SUBSCRIPTIONS,
            )


def visible_azure(workloads: Mapping[str, Workload]) -> frozenset[str]:
    """The Azure workloads a subscription-level association can be seen to cover: all of Azure,
    not the few services (Azure security) whose use the snapshot cannot see."""
    return frozenset(k for k, w in workloads.items() if w.family == "azure" and not w.services)


def _partner_center(
    snapshot: CustomerSnapshot, us: Us, workloads: Mapping[str, Workload]
) -> Iterable[Holding]:
    """Azure usage our Partner Center reports is usage of an Azure plan we sell."""
    for usage in snapshot.of(AzureUsage):
        yield Holding(
            Association.CSP,
            Whose.OURS,
            us.tenant_id,
            frozenset({"azure"}),
            visible_azure(workloads),
            f"Azure subscription {usage.resource_id} is billed through our Partner Center",
            Source.PC_USAGE,
        )


def _report_workloads(family: str, workloads: Mapping[str, Workload]) -> frozenset[str]:
    """The rulebook workloads one report row covers: its family's, except that Intune rides
    with the security reports, not the Office ones."""
    if family == "azure":
        return visible_azure(workloads)
    of_family = {key for key, w in workloads.items() if w.family == family}
    if family == "m365":
        return frozenset(of_family - _EMS_ALSO)
    if family == "security":
        return frozenset(of_family | (_EMS_ALSO & workloads.keys()))
    return frozenset(of_family)


def _reports(
    rows: Iterable[Attribution], us: Us, workloads: Mapping[str, Workload]
) -> Iterable[Holding]:
    for row in rows:
        kind = _REPORT_KINDS.get(row.attribution_type.upper())
        family = "azure" if row.workload.startswith("azure") else _REPORT_FAMILIES.get(row.workload)
        if kind is None or family is None or not row.partner_id:
            continue
        whose = Whose.OURS if us.ours(row.partner_id) else Whose.OTHER
        yield Holding(
            kind,
            whose,
            row.partner_id,
            frozenset({family} | ({"m365"} if family == "security" else set())),
            _report_workloads(family, workloads),
            f"the insight reports show {kind.upper()} of partner ID {row.partner_id} "
            f"on {row.workload}" + (f" ({row.month})" if row.month else ""),
            Source.INSIGHTS,
        )


def _pal(
    links: Iterable[PalLink],
    us: Us,
    usage_subscriptions: frozenset[str],
    workloads: Mapping[str, Workload],
) -> Iterable[Holding]:
    """A PAL earns Azure credit on the subscriptions its identity reaches, and Power Platform
    credit through the identity itself. Which Azure services it manages is not seen, so it
    covers no service-restricted workload (Azure security)."""
    business = {k for k, w in workloads.items() if w.family == "business_apps"}
    for pal in links:
        if pal.partner_id is None:
            continue
        whose = Whose.OURS if us.ours(pal.partner_id) else Whose.OTHER
        reached = {s.lower() for s in pal.subscriptions}
        families, covered = {"business_apps"}, set(business)
        if not usage_subscriptions or reached & usage_subscriptions:
            families.add("azure")
            covered |= visible_azure(workloads)
        yield Holding(
            Association.PAL,
            whose,
            pal.partner_id,
            frozenset(families),
            frozenset(covered),
            f"the identity {pal.identity} links partner ID {pal.partner_id}",
            Source.ARM_PAL,
        )
