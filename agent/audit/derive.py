"""The links today's observations show for one customer: from the Partner Center customer and
subscription lists, GDAP relationships, Partner Admin Links and Microsoft's insight reports.

A link whose source was not read completely in this run is kept, marked not ``fresh``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from agent.audit.link import SELF, TENANT, DerivedLink
from agent.audit.snapshot import CustomerSnapshot
from connectors.records.attribution import Attribution
from connectors.records.customers import CspSubscription, Customer
from connectors.records.gdap import GdapRelationship, GdapStatus
from connectors.records.links import LinkKind
from connectors.records.pal import PalLink
from connectors.records.scope import Source

_REPORT_KINDS = {
    "DPOR": LinkKind.DPOR,
    "CPOR": LinkKind.CPOR,
    "PAL": LinkKind.PAL,
    "CSP": LinkKind.CSP,
    "TPOR": LinkKind.CSP,
    "RESELLER": LinkKind.CSP,
}
PRESENT_GDAP = frozenset({GdapStatus.ACTIVE, GdapStatus.EXPIRING})
"""GDAP statuses in which the relationship is a link of ours."""


def has_active_gdap(snapshot: CustomerSnapshot) -> bool:
    return any(r.status in PRESENT_GDAP for r in snapshot.of(GdapRelationship))


def _from_customers(snapshot: CustomerSnapshot) -> list[DerivedLink]:
    tenant = snapshot.tenant_id
    links: list[DerivedLink] = []
    for customer in snapshot.of(Customer):
        if customer.relationship == "reseller":
            links.append(
                DerivedLink(
                    LinkKind.CSP, tenant, TENANT, SELF, "partner-center", Source.PC_CUSTOMERS
                )
            )
        if customer.associated_partner_id:
            links.append(
                DerivedLink(
                    LinkKind.INDIRECT_RESELLER,
                    tenant,
                    TENANT,
                    customer.associated_partner_id,
                    "partner-center",
                    Source.PC_CUSTOMERS,
                )
            )
    return links


def _from_subscriptions(snapshot: CustomerSnapshot) -> list[DerivedLink]:
    return [
        DerivedLink(
            LinkKind.INDIRECT_RESELLER,
            snapshot.tenant_id,
            f"csp:{sub.key}",
            sub.partner_id,
            "partner-center",
            Source.PC_SUBSCRIPTIONS,
            {"offer": sub.offer_name},
        )
        for sub in snapshot.of(CspSubscription)
        if sub.partner_id and sub.status in ("active", None)
    ]


def _from_gdap(snapshot: CustomerSnapshot) -> list[DerivedLink]:
    return [
        DerivedLink(
            LinkKind.GDAP,
            snapshot.tenant_id,
            TENANT,
            SELF,
            rel.relationship_id,
            Source.GRAPH_GDAP,
            {
                "ends": rel.ends.isoformat() if rel.ends else None,
                "display_name": rel.display_name,
            },
        )
        for rel in snapshot.of(GdapRelationship)
        if rel.status in PRESENT_GDAP
    ]


def _from_pal(snapshot: CustomerSnapshot) -> list[DerivedLink]:
    links: list[DerivedLink] = []
    for pal in snapshot.of(PalLink):
        if not pal.partner_id:
            continue
        for reach in pal.subscriptions or ("*",):
            workload = f"azure:{reach}" if reach != "*" else "azure"
            links.append(
                DerivedLink(
                    LinkKind.PAL,
                    snapshot.tenant_id,
                    workload,
                    pal.partner_id,
                    pal.identity,
                    Source.ARM_PAL,
                )
            )
    return links


def _from_reports(snapshot: CustomerSnapshot) -> list[DerivedLink]:
    links: list[DerivedLink] = []
    for row in snapshot.of(Attribution):
        kind = _REPORT_KINDS.get(row.attribution_type.upper())
        if kind is None or not row.partner_id:
            continue
        links.append(
            DerivedLink(
                kind,
                snapshot.tenant_id,
                row.workload,
                row.partner_id,
                "microsoft",
                Source.INSIGHTS,
                {"month": row.month},
            )
        )
    return links


_DERIVERS: tuple[Callable[[CustomerSnapshot], list[DerivedLink]], ...] = (
    _from_customers,
    _from_subscriptions,
    _from_gdap,
    _from_pal,
    _from_reports,
)
"""In this order: where two sources show the same link, the first one's comes first."""


def derive_links(snapshot: CustomerSnapshot) -> list[DerivedLink]:
    """Every link today's observations show for the customer."""
    unique: dict[str, DerivedLink] = {}
    for derive in _DERIVERS:
        for link in derive(snapshot):
            identity = link.ref if link.source is Source.ARM_PAL else None
            fresh = snapshot.complete(link.source, identity)
            unique[link.key] = link if fresh else replace(link, fresh=False)
    return list(unique.values())
