"""The partner's service principals in customer tenants (the identities that carry PAL),
with each app registration's secrets and certificates and when they end, read in the partner
tenant (:mod:`connectors.graph.app_credentials`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from typing import Any

import structlog

from connectors.base import Connector
from connectors.context import LiveContext
from connectors.endpoints import CloudEndpoints
from connectors.errors import MalformedResponse, PermanentError
from connectors.graph.app_credentials import credential_ends, newest_end
from connectors.graph.connector import GraphConnector
from connectors.http.fields import flag, guid, name_text, required, text
from connectors.http.paging import paginate
from connectors.http.redact import escape
from connectors.http.requester import Requester
from connectors.records.pal import CredentialEnd, Identity
from connectors.records.record import Record
from connectors.records.scope import ScopeKind, Source
from connectors.source_row import Permission, SourceRow

__all__ = ["GraphIdentities", "parse_service_principal"]

log = structlog.get_logger()

Credentials = tuple[CredentialEnd, ...]


def parse_service_principal(
    item: Mapping[str, Any],
    customer_tenant_id: str,
    identity: str,
    credentials: tuple[CredentialEnd, ...] = (),
    *,
    what: str = "service principals",
) -> Identity:
    """The partner's ``servicePrincipal`` in a customer tenant, named by our identity name,
    with its app registration's credentials."""
    enabled = flag(item.get("accountEnabled"))
    return Identity(
        customer_tenant_id=customer_tenant_id.lower(),
        identity=identity,
        object_id=required(item, "id", what=what).lower(),
        app_id=(text(item.get("appId")) or "").lower() or None,
        display_name=name_text(item.get("displayName")),
        enabled=True if enabled is None else enabled,
        credential_expires=newest_end(credentials),
        credentials=credentials,
    )


class GraphIdentities(GraphConnector):
    """The partner's service principals in a customer tenant (one per known app that has one),
    with the app registration's credentials from the partner tenant."""

    row = SourceRow(
        source=Source.GRAPH_IDENTITIES,
        scope_kind=ScopeKind.CUSTOMER,
        kinds=(Identity.KIND,),
        page_size=100,
        # The carriers' app credentials in the partner tenant, the service principals in each
        # customer tenant.
        permissions=(
            Permission("Application.Read.All", ScopeKind.PARTNER),
            Permission("Application.Read.All", ScopeKind.CUSTOMER),
        ),
    )

    @classmethod
    def connect(cls, context: LiveContext) -> Iterable[Connector]:
        return [
            cls(
                context.requester,
                context.endpoints,
                partner_tenant_id=context.partner_tenant_id,
                apps=context.identities,
            )
        ]

    def __init__(
        self,
        requester: Requester,
        endpoints: CloudEndpoints,
        *,
        partner_tenant_id: str,
        apps: Mapping[str, str],
        credential_ttl: float = 900.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(requester, endpoints, partner_tenant_id=partner_tenant_id)
        self.apps = {name: app_id.lower() for name, app_id in apps.items()}
        self.credential_ttl = credential_ttl
        self.clock = clock
        self._expiry: dict[str, tuple[float, Credentials]] = {}
        self._reading: dict[str, asyncio.Future[Credentials]] = {}

    async def credentials(self, app_id: str) -> Credentials:
        """The app registration's secrets and certificates, cached for ``credential_ttl``.

        Every customer's read asks for the same few apps at once: one read of an app is in
        flight at a time, and whoever asks meanwhile shares its answer (or its error)."""
        cached = self._expiry.get(app_id)
        if cached is not None and cached[0] > self.clock():
            return cached[1]
        reading = self._reading.get(app_id)
        if reading is None:
            reading = self._reading[app_id] = asyncio.ensure_future(self._read_credentials(app_id))
            reading.add_done_callback(lambda done: self._forget_reading(app_id, done))
        # Shielded: one reader giving up (a cancelled customer) does not cancel the others'.
        return await asyncio.shield(reading)

    def _forget_reading(self, app_id: str, done: asyncio.Future[Credentials]) -> None:
        if self._reading.get(app_id) is done:
            del self._reading[app_id]
        if not done.cancelled():
            done.exception()  # retrieved: an error nobody awaits any more is not "never seen"

    async def _read_credentials(self, app_id: str) -> Credentials:
        now = self.clock()
        what = f"{self.source} for partner (application {app_id})"
        request = self.request(
            self.partner_tenant_id,
            f"/v1.0/applications(appId='{app_id}')",
            what,
            query={"$select": "id,appId,passwordCredentials,keyCredentials"},
        )
        try:
            application = await self.requester.get_json(request)
        except PermanentError as exc:
            if exc.status != 404:
                raise
            # The registration is gone or not visible: no expiry to report, not a failed read.
            log.warning("graph_application_not_found", app_id=app_id, code=escape(exc.code))
            application = {}
        credentials = credential_ends(application)
        self._expiry[app_id] = (now + self.credential_ttl, credentials)
        return credentials

    async def fetch(self, customer_tenant_id: str | None) -> AsyncIterator[Record]:
        tenant = self.customer(customer_tenant_id)
        what = self.what(tenant)
        for name, app_id in self.apps.items():
            request = self.request(
                tenant,
                "/v1.0/servicePrincipals",
                what,
                query={"$filter": f"appId eq '{app_id}'"},
            )
            found = [item async for item in paginate(self.requester, request, self.pager)]
            if not found:
                continue
            if len(found) > 1 or guid(found[0].get("appId")) not in (None, app_id):
                raise MalformedResponse(f"{what}: the appId filter returned another app")
            credentials = await self.credentials(app_id)
            yield parse_service_principal(found[0], tenant, name, credentials, what=what)
