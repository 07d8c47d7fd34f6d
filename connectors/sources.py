"""Every source the agent reads, in order: one connector class per source, each holding its row.

A source's facts — its name, how it is scoped, the record kinds it yields, the Graph roles it
needs, the page size it asks for and how the sync makes its connectors — are declared once, as
``row`` and ``connect`` on its connector class (:class:`~connectors.http.connector.LiveConnector`).
The live factory, the stand-in's fakes and emulator, and ``check --online`` all read the rows
from here. Adding a source is its connector module, its entry here, its name in
:class:`~connectors.records.scope.Source`, its record kind if it is a new one, the stand-in's
answer, handler and payload, and its tests (the README counts them).
"""

from __future__ import annotations

from connectors.arm import ArmPal, ArmSubscriptions
from connectors.graph.contracts import GraphContracts
from connectors.graph.gdap import GraphGdap
from connectors.graph.identities import GraphIdentities
from connectors.graph.licences import GraphDirectorySubscriptions, GraphSubscribedSkus
from connectors.graph.reports import GraphUsageReports
from connectors.http.connector import LiveConnector
from connectors.insights.api import InsightsApi
from connectors.partner_center import (
    PartnerCenterAuditRecords,
    PartnerCenterCustomers,
    PartnerCenterSubscriptions,
    PartnerCenterUsage,
)
from connectors.records.scope import ScopeKind, Source
from connectors.source_row import SourceRow

LIVE: tuple[type[LiveConnector], ...] = (
    PartnerCenterCustomers,
    PartnerCenterSubscriptions,
    PartnerCenterAuditRecords,
    PartnerCenterUsage,
    GraphContracts,
    GraphGdap,
    GraphSubscribedSkus,
    GraphDirectorySubscriptions,
    GraphUsageReports,
    GraphIdentities,
    ArmSubscriptions,
    ArmPal,
    InsightsApi,
)
"""The connector class of every source, in :class:`~connectors.records.scope.Source` order (the
order connectors are made)."""

SOURCES: tuple[SourceRow, ...] = tuple(connector.row for connector in LIVE)
"""Every source's row, in the same order."""

_BY_SOURCE: dict[Source, SourceRow] = {row.source: row for row in SOURCES}


def source_row(source: Source | str) -> SourceRow:
    """The row of ``source`` (a :class:`Source` or its name)."""
    return _BY_SOURCE[Source(source)]


def graph_roles(granted_in: ScopeKind) -> dict[str, tuple[str, ...]]:
    """Source name -> the Graph roles it needs granted in the partner or each customer tenant,
    for the sources that need any."""
    needs = {
        row.name: tuple(p.role for p in row.permissions if p.granted_in is granted_in)
        for row in SOURCES
    }
    return {name: roles for name, roles in needs.items() if roles}
