"""What a read is of: the source it reads, and the scope (the partner, or one customer tenant,
or one identity in it) it reads that source for.
"""

from __future__ import annotations

from enum import StrEnum


class Source(StrEnum):
    """Every source the agent reads; the unit of the per-(source, scope) status."""

    PC_CUSTOMERS = "partner_center.customers"
    PC_SUBSCRIPTIONS = "partner_center.subscriptions"
    PC_AUDIT = "partner_center.audit_records"
    PC_USAGE = "partner_center.usage"
    GRAPH_CONTRACTS = "graph.contracts"
    GRAPH_GDAP = "graph.gdap"
    GRAPH_SKUS = "graph.subscribed_skus"
    GRAPH_DIRECTORY_SUBSCRIPTIONS = "graph.directory_subscriptions"
    GRAPH_USAGE = "graph.usage_reports"
    GRAPH_IDENTITIES = "graph.identities"
    ARM_SUBSCRIPTIONS = "arm.subscriptions"
    ARM_PAL = "arm.pal"
    INSIGHTS = "insights.attribution"


class ScopeKind(StrEnum):
    """Whether a source is read once for the partner or once per customer tenant."""

    PARTNER = "partner"
    CUSTOMER = "customer"


PARTNER_SCOPE = "partner"
"""The scope string of partner-level sources."""


def scope_for(customer_tenant_id: str | None, identity: str | None = None) -> str:
    """The scope string of a read: ``partner``, ``<tenant>`` or ``<tenant>/<identity>``."""
    if customer_tenant_id is None:
        return PARTNER_SCOPE
    return f"{customer_tenant_id}/{identity}" if identity else customer_tenant_id
