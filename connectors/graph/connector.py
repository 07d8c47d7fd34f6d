"""What the Graph connectors share: a GET in a tenant (the customer's authority for a
customer-tenant read, where the partner's multi-tenant app needs consent), with a fresh
``client-request-id``, an OData query spelled as Graph documents it, and Graph's paging.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any
from urllib.parse import quote

from connectors.base import Connector
from connectors.context import LiveContext
from connectors.endpoints import CloudEndpoints
from connectors.http.connector import LiveConnector
from connectors.http.paging import GraphPaginator, paginate
from connectors.http.request import ApiRequest
from connectors.http.requester import Requester

__all__ = ["GraphConnector", "odata_query"]


def odata_query(params: Mapping[str, str]) -> str:
    """A query string as Graph documents it: ``$`` kept, spaces as ``%20`` (not ``+``)."""
    return "&".join(
        f"{key}={quote(value, safe=chr(39) + '(),$:')}" for key, value in params.items()
    )


class GraphConnector(LiveConnector):
    """Shared by the Graph connectors: a GET in a tenant, and a listing read whole."""

    def __init__(
        self, requester: Requester, endpoints: CloudEndpoints, *, partner_tenant_id: str
    ) -> None:
        super().__init__(requester, endpoints)
        self.partner_tenant_id = partner_tenant_id.lower()
        self.pager = GraphPaginator()

    @classmethod
    def connect(cls, context: LiveContext) -> Iterable[Connector]:
        return [
            cls(context.requester, context.endpoints, partner_tenant_id=context.partner_tenant_id)
        ]

    def request(
        self,
        tenant: str,
        path: str,
        what: str,
        *,
        query: Mapping[str, str] | None = None,
        scope: str | None = None,
    ) -> ApiRequest:
        url = f"{self.endpoints.graph}{path}"
        if query:
            url += "?" + odata_query(query)
        return ApiRequest(
            method="GET",
            url=url,
            scope=scope or f"graph:{tenant}",
            what=what,
            tenant_id=tenant,
            resource=self.endpoints.graph_resource,
            headers={"client-request-id": str(uuid.uuid4())},
        )

    def listing(
        self, tenant: str, path: str, what: str, *, query: Mapping[str, str] | None = None
    ) -> AsyncIterator[dict[str, Any]]:
        return paginate(self.requester, self.request(tenant, path, what, query=query), self.pager)
