"""Graph contracts in the partner tenant: the customers the partner may manage."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

from connectors.graph.connector import GraphConnector
from connectors.http.fields import name_text, required, text
from connectors.records.customers import Contract
from connectors.records.record import Record
from connectors.records.scope import ScopeKind, Source
from connectors.source_row import Permission, SourceRow

__all__ = ["GraphContracts", "parse_contract"]


def parse_contract(item: Mapping[str, Any], *, what: str = "contracts") -> Contract:
    """A ``contract`` of ``GET /v1.0/contracts`` (partner tenant)."""
    return Contract(
        customer_tenant_id=required(item, "customerId", what=what).lower(),
        contract_type=text(item.get("contractType")),
        display_name=name_text(item.get("displayName")),
        default_domain=name_text(item.get("defaultDomainName")),
    )


class GraphContracts(GraphConnector):
    """``GET /v1.0/contracts`` in the partner tenant: customers the partner may manage."""

    row = SourceRow(
        source=Source.GRAPH_CONTRACTS,
        scope_kind=ScopeKind.PARTNER,
        kinds=(Contract.KIND,),
        page_size=100,
        permissions=(Permission("Directory.Read.All", ScopeKind.PARTNER),),
    )

    async def fetch(self, customer_tenant_id: str | None) -> AsyncIterator[Record]:
        what = self.what(None)
        query = {"$top": str(self.page_size)}
        async for item in self.listing(
            self.partner_tenant_id, "/v1.0/contracts", what, query=query
        ):
            yield parse_contract(item, what=what)
