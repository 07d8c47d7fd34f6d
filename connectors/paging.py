"""Page sizes the agent asks for, per source; the emulator pages the same way.

Shared so a fault on ``page:N`` of a listing means the same thing to the fake connectors, the
emulator and the real connectors reading the emulator.
"""

from __future__ import annotations

from connectors.records import Source

PAGE_SIZE: dict[Source, int] = {
    Source.PC_CUSTOMERS: 100,
    Source.PC_SUBSCRIPTIONS: 100,
    Source.PC_AUDIT: 500,
    Source.PC_USAGE: 100,
    Source.GRAPH_CONTRACTS: 100,
    Source.GRAPH_GDAP: 300,  # Graph's documented $top maximum for delegatedAdminRelationships
    Source.GRAPH_SKUS: 100,
    Source.GRAPH_DIRECTORY_SUBSCRIPTIONS: 100,
    Source.GRAPH_USAGE: 100,  # one report, one request
    Source.GRAPH_IDENTITIES: 100,
    Source.ARM_SUBSCRIPTIONS: 100,
    Source.ARM_PAL: 100,  # one object per identity, one request
    Source.INSIGHTS: 1000,
}


def page_count(items: int, source: Source) -> int:
    """How many pages a listing of ``items`` has; an empty listing is one (empty) page."""
    size = PAGE_SIZE[source]
    return max(1, -(-items // size))
