"""GDAP relationships and their access assignments, read in the partner tenant.

The assignment listings of a few relationships run while the relationship listing goes on page
by page, each finished one replaced at once (one slow answer holds no other back), so however
many relationships the partner has, only a small window of them is held at a time.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any
from urllib.parse import quote

from connectors.base import Connector
from connectors.context import LiveContext
from connectors.endpoints import CloudEndpoints
from connectors.graph.connector import GraphConnector
from connectors.http.fields import name_text, nested, required, text, timestamp
from connectors.http.requester import Requester
from connectors.records.gdap import GdapAccessAssignment, GdapRelationship, GdapStatus
from connectors.records.record import Record
from connectors.records.scope import ScopeKind, Source
from connectors.source_row import Permission, SourceRow

__all__ = ["GraphGdap", "parse_access_assignment", "parse_relationship"]


def _roles(access_details: Any) -> tuple[str, ...]:
    """The lower-cased role definition ids of an ``accessDetails`` object."""
    roles = access_details.get("unifiedRoles") if isinstance(access_details, Mapping) else None
    if not isinstance(roles, list):
        return ()
    found = (text(r.get("roleDefinitionId")) for r in roles if isinstance(r, Mapping))
    return tuple(r.lower() for r in found if r)


def parse_relationship(
    item: Mapping[str, Any], *, what: str = "GDAP relationships"
) -> GdapRelationship:
    """A ``delegatedAdminRelationship``; an unknown status is kept raw and parsed ``unknown``."""
    raw_status = text(item.get("status"))
    return GdapRelationship(
        relationship_id=required(item, "id", what=what),
        customer_tenant_id=required(item, "customer", "tenantId", what=what).lower(),
        customer_name=name_text(nested(item, "customer", "displayName")),
        display_name=name_text(item.get("displayName")),
        status=GdapStatus.parse(raw_status),
        raw_status=raw_status,
        roles=_roles(item.get("accessDetails")),
        auto_extend_duration=text(item.get("autoExtendDuration")),
        activated=timestamp(item.get("activatedDateTime")),
        ends=timestamp(item.get("endDateTime")),
    )


def parse_access_assignment(
    item: Mapping[str, Any],
    relationship: GdapRelationship,
    *,
    what: str = "GDAP access assignments",
) -> GdapAccessAssignment:
    """A ``delegatedAdminAccessAssignment`` of one relationship."""
    return GdapAccessAssignment(
        assignment_id=required(item, "id", what=what),
        relationship_id=relationship.relationship_id,
        customer_tenant_id=relationship.customer_tenant_id,
        group_id=(text(nested(item, "accessContainer", "accessContainerId")) or "").lower() or None,
        roles=_roles(item.get("accessDetails")),
        status=text(item.get("status")),
    )


GDAP_CONCURRENCY = 64
"""Access-assignment listings of GDAP relationships read at once in a sync."""


class GraphGdap(GraphConnector):
    """GDAP relationships (``$top=300``, ``$count=true`` checked) and each one's access
    assignments, in the partner tenant."""

    row = SourceRow(
        source=Source.GRAPH_GDAP,
        scope_kind=ScopeKind.PARTNER,
        kinds=(GdapRelationship.KIND, GdapAccessAssignment.KIND),
        page_size=300,  # Graph's documented $top maximum for delegatedAdminRelationships
        permissions=(Permission("DelegatedAdminRelationship.Read.All", ScopeKind.PARTNER),),
    )
    PATH = "/v1.0/tenantRelationships/delegatedAdminRelationships"

    def __init__(
        self,
        requester: Requester,
        endpoints: CloudEndpoints,
        *,
        partner_tenant_id: str,
        concurrency: int = 8,
    ) -> None:
        super().__init__(requester, endpoints, partner_tenant_id=partner_tenant_id)
        self.concurrency = max(1, concurrency)

    @classmethod
    def connect(cls, context: LiveContext) -> Iterable[Connector]:
        # One access-assignment listing per relationship, all in the partner tenant's
        # multi-tenant budget: on a large estate this read sets the sync's floor, so it keeps
        # enough requests going to use that budget (the limiter holds it there).
        return [
            cls(
                context.requester,
                context.endpoints,
                partner_tenant_id=context.partner_tenant_id,
                concurrency=GDAP_CONCURRENCY,
            )
        ]

    async def _assignments(
        self, relationship: GdapRelationship, what: str
    ) -> list[GdapAccessAssignment]:
        path = f"{self.PATH}/{quote(relationship.relationship_id, safe='')}/accessAssignments"
        return [
            parse_access_assignment(item, relationship, what=what)
            async for item in self.listing(self.partner_tenant_id, path, what)
        ]

    async def _read(
        self, relationship: GdapRelationship, what: str
    ) -> tuple[GdapRelationship, list[GdapAccessAssignment]]:
        return relationship, await self._assignments(relationship, what)

    async def fetch(self, customer_tenant_id: str | None) -> AsyncIterator[Record]:
        """Each relationship followed by its access assignments, in listing order.

        Up to ``concurrency`` assignment reads are in flight while the listing goes on page by
        page, and a finished read is replaced at once, even while an earlier one is still out:
        one slow answer never holds the others back (the multi-tenant budget, which sets a
        large sync's floor, would go unspent while it waits). Finished reads wait for the
        earlier ones only to keep the order, at most ``HELD`` x ``concurrency`` of them; so
        however many relationships the partner has, only that window is held at a time."""
        what = self.what(None)
        query = {"$top": str(self.page_size), "$count": "true"}
        window: deque[_Read] = deque()
        try:
            async for item in self.listing(self.partner_tenant_id, self.PATH, what, query=query):
                relationship = parse_relationship(item, what=what)
                window.append(asyncio.ensure_future(self._read(relationship, what)))
                while True:
                    for record in _ready(window):
                        yield record
                    if not self._full(window):
                        break
                    await _first_finished(window)
            while window:
                await _first_finished(window)
                for record in _ready(window):
                    yield record
        finally:
            # An error (or the reader stopping early) leaves no assignment read running.
            for task in window:
                task.cancel()
            if window:
                await asyncio.gather(*window, return_exceptions=True)

    def _full(self, window: deque[_Read]) -> bool:
        running = sum(1 for task in window if not task.done())
        return running >= self.concurrency or len(window) >= HELD * self.concurrency


HELD = 4
"""Finished assignment reads kept waiting for an earlier one, in units of ``concurrency``."""

_Read = asyncio.Task[tuple[GdapRelationship, list[GdapAccessAssignment]]]


async def _first_finished(window: deque[_Read]) -> None:
    """Until one more read of the window has finished; a failed read raises at once."""
    running = [task for task in window if not task.done()]
    if running:
        await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
    for task in window:
        error = task.exception() if task.done() else None
        if error is not None:
            raise error


def _ready(window: deque[_Read]) -> list[Record]:
    """The records of the finished reads at the head of the window, taken off it in order."""
    records: list[Record] = []
    while window and window[0].done():
        relationship, assignments = window.popleft().result()
        records += [relationship, *assignments]
    return records
