"""The Microsoft Graph application permissions an app holds in a tenant, read from that tenant's
directory: the app role assignments of the app's service principal, named by the app roles
Microsoft Graph's own service principal defines there.

Not from the ``roles`` claim of a token: Microsoft says clients must treat access tokens as
opaque. Reading the assignments needs Application.Read.All (or Directory.Read.All) in the tenant
(GDOC serviceprincipal-list-approleassignments); without it Graph answers 403 and the reader
raises, like every connector.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from connectors.endpoints import CloudEndpoints
from connectors.errors import MalformedResponse
from connectors.graph.connector import odata_query
from connectors.http.fields import text
from connectors.http.paging import GraphPaginator, paginate
from connectors.http.request import ApiRequest
from connectors.http.requester import Requester

__all__ = ["GRAPH_APP_ID", "granted_graph_roles"]

GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
"""Microsoft Graph's application id: the same in every tenant."""


def _request(
    endpoints: CloudEndpoints, tenant: str, path: str, what: str, query: Mapping[str, str] | None
) -> ApiRequest:
    url = f"{endpoints.graph}{path}" + (f"?{odata_query(query)}" if query else "")
    return ApiRequest(
        method="GET",
        url=url,
        scope=f"graph:{tenant}",
        what=what,
        tenant_id=tenant,
        resource=endpoints.graph_resource,
        headers={"client-request-id": str(uuid.uuid4())},
    )


def _role_names(graph: Mapping[str, Any], what: str) -> dict[str, str]:
    """appRole id -> value, for the application roles Microsoft Graph defines."""
    roles = graph.get("appRoles")
    if not isinstance(roles, list):
        raise MalformedResponse(f"{what}: Microsoft Graph's service principal lists no appRoles")
    names: dict[str, str] = {}
    for role in roles:
        if isinstance(role, Mapping):
            role_id, value = text(role.get("id")), text(role.get("value"))
            if role_id and value:
                names[role_id.lower()] = value
    return names


async def granted_graph_roles(
    requester: Requester, endpoints: CloudEndpoints, tenant: str, app_id: str
) -> frozenset[str]:
    """The Graph application roles assigned to ``app_id``'s service principal in ``tenant``,
    as the partner's app reads them there. An id the tenant's Graph does not define is kept as
    the id itself, so nothing granted goes unseen."""
    tenant = tenant.lower()
    what = f"Graph app role assignments of {app_id} in {tenant}"
    graph = await requester.get_json(
        _request(
            endpoints,
            tenant,
            f"/v1.0/servicePrincipals(appId='{GRAPH_APP_ID}')",
            what,
            {"$select": "id,appRoles"},
        )
    )
    resource = (text(graph.get("id")) or "").lower()
    names = _role_names(graph, what)
    request = _request(
        endpoints,
        tenant,
        f"/v1.0/servicePrincipals(appId='{app_id}')/appRoleAssignments",
        what,
        None,
    )
    granted: set[str] = set()
    async for item in paginate(requester, request, GraphPaginator()):
        if (text(item.get("resourceId")) or "").lower() != resource:
            continue  # a role of another API (Partner Center, ARM ...)
        role_id = (text(item.get("appRoleId")) or "").lower()
        if role_id:
            granted.add(names.get(role_id, role_id))
    return frozenset(granted)
