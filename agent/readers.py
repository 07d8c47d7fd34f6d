"""The readers of a tenant, as a person fixes them: Partner Center, Graph in the customer's
tenant, ARM, each identity's Partner Admin Link read, GDAP... A reader holds one or more
sources (Graph in a customer's tenant reads four) that one consent, permission or role opens;
the readiness check has a line per reader, and ``cannot_verify`` a finding per reader and cause.
"""

from __future__ import annotations

from connectors.base import PARTNER_APP

PARTNER_CENTER = "partner_center"
PARTNER_CENTER_USAGE = "partner_center usage"
GRAPH = "graph"
GRAPH_PARTNER = "graph (partner tenant)"
GDAP = "gdap"
ARM = "arm"
INSIGHTS = "insights"


def pal(identity: str | None) -> str:
    """The Partner Admin Link read of one identity."""
    return f"pal as {identity or PARTNER_APP}"


def reader_of(source: str, identity: str | None, *, partner_scope: bool) -> str:
    """The reader a source belongs to (its name in :class:`connectors.records.scope.Source`)."""
    family = source.split(".", 1)[0]
    if source == "partner_center.usage":
        return PARTNER_CENTER_USAGE
    if source == "graph.gdap":
        return GDAP
    if source == "arm.pal":
        return pal(identity)
    by_family = {
        "partner_center": PARTNER_CENTER,
        "graph": GRAPH_PARTNER if partner_scope else GRAPH,
        "arm": ARM,
        "insights": INSIGHTS,
    }
    return by_family.get(family, source)
