"""Microsoft Graph connectors: contracts and GDAP in the partner tenant; licences, directory
subscriptions, active-user reports and the partner's service principals in customer tenants.

Customer-tenant reads use a token issued by the customer's authority (the partner's multi-tenant
app needs consent there). The usage report answers 302 with a pre-authenticated download URL that
is fetched without the Authorization header, only from a public https host, and never logged with
its query string.
"""

from __future__ import annotations

import asyncio
import csv
import io
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote, urljoin

import structlog

from connectors.endpoints import CloudEndpoints
from connectors.errors import MalformedResponse, PermanentError
from connectors.http.connector import LiveConnector
from connectors.http.fields import flag, guid, integer, name_text, nested, required, text, timestamp
from connectors.http.paging import GraphPaginator, paginate
from connectors.http.redact import escape
from connectors.http.request import ApiRequest
from connectors.http.requester import Requester
from connectors.records.customers import (
    ActiveUsers,
    Contract,
    DirectorySubscription,
    GdapAccessAssignment,
    GdapRelationship,
    GdapStatus,
    Identity,
    Record,
    Source,
    SubscribedSku,
)

log = structlog.get_logger()

REPORT_PERIOD = "D30"

REPORT_COLUMNS: dict[str, str] = {
    "exchange": "Exchange Active",
    "onedrive": "OneDrive Active",
    "sharepoint": "SharePoint Active",
    "skype_for_business": "Skype For Business Active",
    "yammer": "Yammer Active",
    "teams": "Teams Active",
    "office365": "Office 365 Active",
}
"""Workload -> column of ``getOffice365ServicesUserCounts``, in :data:`M365_WORKLOADS` order
(the order the fake connectors yield; a test holds the two together)."""


def odata_query(params: Mapping[str, str]) -> str:
    """A query string as Graph documents it: ``$`` kept, spaces as ``%20`` (not ``+``)."""
    return "&".join(
        f"{key}={quote(value, safe=chr(39) + '(),$:')}" for key, value in params.items()
    )


def _roles(access_details: Any) -> tuple[str, ...]:
    """The lower-cased role definition ids of an ``accessDetails`` object."""
    roles = access_details.get("unifiedRoles") if isinstance(access_details, Mapping) else None
    if not isinstance(roles, list):
        return ()
    found = (text(r.get("roleDefinitionId")) for r in roles if isinstance(r, Mapping))
    return tuple(r.lower() for r in found if r)


# ---------------------------------------------------------------------------------------------
# Parsing


def parse_contract(item: Mapping[str, Any], *, what: str = "contracts") -> Contract:
    """A ``contract`` of ``GET /v1.0/contracts`` (partner tenant)."""
    return Contract(
        customer_tenant_id=required(item, "customerId", what=what).lower(),
        contract_type=text(item.get("contractType")),
        display_name=name_text(item.get("displayName")),
        default_domain=name_text(item.get("defaultDomainName")),
    )


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


def parse_subscribed_sku(
    item: Mapping[str, Any], customer_tenant_id: str, *, what: str = "subscribed SKUs"
) -> SubscribedSku:
    """A ``subscribedSku`` of the customer tenant."""
    return SubscribedSku(
        customer_tenant_id=customer_tenant_id.lower(),
        sku_id=required(item, "skuId", what=what).lower(),
        sku_part_number=name_text(item.get("skuPartNumber")),
        capability_status=text(item.get("capabilityStatus")),
        enabled_units=integer(nested(item, "prepaidUnits", "enabled")) or 0,
        consumed_units=integer(item.get("consumedUnits")) or 0,
    )


def parse_directory_subscription(
    item: Mapping[str, Any],
    customer_tenant_id: str,
    *,
    what: str = "directory subscriptions",
) -> DirectorySubscription:
    """A ``companySubscription``; ``ownerTenantId`` is who bought it (for CSP, the partner).

    ``commerce_subscription_id`` stays ``None``, as in the fake connectors (the contract).
    """
    return DirectorySubscription(
        customer_tenant_id=customer_tenant_id.lower(),
        subscription_id=required(item, "id", what=what).lower(),
        sku_id=(text(item.get("skuId")) or "").lower() or None,
        sku_part_number=name_text(item.get("skuPartNumber")),
        status=text(item.get("status")),
        total_licenses=integer(item.get("totalLicenses")),
        owner_tenant_id=(text(item.get("ownerTenantId")) or "").lower() or None,
        is_trial=flag(item.get("isTrial")),
    )


def parse_services_user_counts(
    content: bytes | str,
    customer_tenant_id: str,
    *,
    period: str = REPORT_PERIOD,
    what: str = "usage report",
) -> list[ActiveUsers]:
    """``getOffice365ServicesUserCounts`` CSV -> one :class:`ActiveUsers` per workload.

    Real downloads start with a UTF-8 BOM (decoded with ``utf-8-sig``). A report with its header
    but no data row (a tenant without data yet) yields nothing; a missing column is malformed.
    """
    if isinstance(content, bytes):
        try:
            content = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise MalformedResponse(f"{what}: the report is not UTF-8 text") from None
    else:
        content = content.removeprefix("\ufeff")
    reader = csv.DictReader(io.StringIO(content))
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in (*REPORT_COLUMNS.values(), "Report Refresh Date") if c not in header]
    if missing:
        raise MalformedResponse(f"{what}: the report lacks the columns {', '.join(missing)}")
    rows = [{(k or "").strip(): (v or "").strip() for k, v in row.items()} for row in reader]
    if not rows:
        return []
    # One row per report; were there several, the newest refresh date wins.
    row = max(rows, key=lambda r: r.get("Report Refresh Date", ""))
    raw_period = row.get("Report Period", "")
    made: list[ActiveUsers] = []
    for workload, column in REPORT_COLUMNS.items():
        value = row.get(column, "")
        count = integer(value) if value else 0
        if count is None:
            raise MalformedResponse(f"{what}: {column} is not a number: {escape(value, 40)}")
        made.append(
            ActiveUsers(
                customer_tenant_id=customer_tenant_id.lower(),
                workload=workload,
                active_users=count,
                report_refresh_date=row.get("Report Refresh Date") or None,
                period=f"D{raw_period}" if raw_period.isdigit() else (raw_period or period),
            )
        )
    return made


def parse_service_principal(
    item: Mapping[str, Any],
    customer_tenant_id: str,
    identity: str,
    credential_expires: datetime | None,
    *,
    what: str = "service principals",
) -> Identity:
    """The partner's ``servicePrincipal`` in a customer tenant, named by our identity name."""
    enabled = flag(item.get("accountEnabled"))
    return Identity(
        customer_tenant_id=customer_tenant_id.lower(),
        identity=identity,
        object_id=required(item, "id", what=what).lower(),
        app_id=(text(item.get("appId")) or "").lower() or None,
        display_name=name_text(item.get("displayName")),
        enabled=True if enabled is None else enabled,
        credential_expires=credential_expires,
    )


def newest_credential_expiry(application: Mapping[str, Any]) -> datetime | None:
    """The latest ``endDateTime`` of an application's secrets and certificates."""
    ends: list[datetime] = []
    for key in ("passwordCredentials", "keyCredentials"):
        for credential in application.get(key) or []:
            if isinstance(credential, Mapping):
                end = timestamp(credential.get("endDateTime"))
                if end is not None:
                    ends.append(end)
    return max(ends) if ends else None


# ---------------------------------------------------------------------------------------------
# Connectors


class _Graph(LiveConnector):
    """Shared by the Graph connectors."""

    def __init__(
        self, requester: Requester, endpoints: CloudEndpoints, *, partner_tenant_id: str
    ) -> None:
        super().__init__(requester, endpoints)
        self.partner_tenant_id = partner_tenant_id.lower()
        self.pager = GraphPaginator()

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


class GraphContracts(_Graph):
    """``GET /v1.0/contracts`` in the partner tenant: customers the partner may manage."""

    source = Source.GRAPH_CONTRACTS

    async def fetch(self, customer_tenant_id: str | None) -> AsyncIterator[Record]:
        what = self.what(None)
        query = {"$top": str(self.page_size)}
        async for item in self.listing(
            self.partner_tenant_id, "/v1.0/contracts", what, query=query
        ):
            yield parse_contract(item, what=what)


class GraphGdap(_Graph):
    """GDAP relationships (``$top=300``, ``$count=true`` checked) and each one's access
    assignments, in the partner tenant."""

    source = Source.GRAPH_GDAP
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

    async def _assignments(
        self, relationship: GdapRelationship, what: str
    ) -> list[GdapAccessAssignment]:
        path = f"{self.PATH}/{quote(relationship.relationship_id, safe='')}/accessAssignments"
        return [
            parse_access_assignment(item, relationship, what=what)
            async for item in self.listing(self.partner_tenant_id, path, what)
        ]

    async def fetch(self, customer_tenant_id: str | None) -> AsyncIterator[Record]:
        """Each relationship, then its access assignments, in listing order.

        The assignment reads of up to ``concurrency`` relationships are in flight while the
        listing goes on page by page: however many relationships the partner has, only those
        few and one page are held at a time."""
        what = self.what(None)
        query = {"$top": str(self.page_size), "$count": "true"}
        pending: deque[tuple[GdapRelationship, asyncio.Task[list[GdapAccessAssignment]]]] = deque()
        try:
            async for item in self.listing(self.partner_tenant_id, self.PATH, what, query=query):
                relationship = parse_relationship(item, what=what)
                pending.append(
                    (relationship, asyncio.ensure_future(self._assignments(relationship, what)))
                )
                while len(pending) >= self.concurrency:
                    for record in await self._next(pending):
                        yield record
            while pending:
                for record in await self._next(pending):
                    yield record
        finally:
            # An error (or the reader stopping early) leaves no assignment read running.
            for _relationship, task in pending:
                task.cancel()
            if pending:
                await asyncio.gather(*(task for _r, task in pending), return_exceptions=True)

    @staticmethod
    async def _next(
        pending: deque[tuple[GdapRelationship, asyncio.Task[list[GdapAccessAssignment]]]],
    ) -> list[Record]:
        relationship, task = pending[0]
        assignments = await task
        pending.popleft()
        return [relationship, *assignments]


class GraphSubscribedSkus(_Graph):
    """``GET /v1.0/subscribedSkus`` in the customer tenant."""

    source = Source.GRAPH_SKUS

    async def fetch(self, customer_tenant_id: str | None) -> AsyncIterator[Record]:
        tenant = self.customer(customer_tenant_id)
        what = self.what(tenant)
        async for item in self.listing(tenant, "/v1.0/subscribedSkus", what):
            yield parse_subscribed_sku(item, tenant, what=what)


class GraphDirectorySubscriptions(_Graph):
    """``GET /v1.0/directory/subscriptions`` in the customer tenant."""

    source = Source.GRAPH_DIRECTORY_SUBSCRIPTIONS

    async def fetch(self, customer_tenant_id: str | None) -> AsyncIterator[Record]:
        tenant = self.customer(customer_tenant_id)
        what = self.what(tenant)
        async for item in self.listing(tenant, "/v1.0/directory/subscriptions", what):
            yield parse_directory_subscription(item, tenant, what=what)


class GraphUsageReports(_Graph):
    """``getOffice365ServicesUserCounts(period='D30')``: active users per Microsoft 365 workload.

    Graph answers 302 to a short-lived pre-authenticated URL; it is fetched without the
    Authorization header (the token must not leave Graph), only from a public https host, under
    the download cap, and its query is never logged (all the requester's doing).
    """

    source = Source.GRAPH_USAGE

    async def fetch(self, customer_tenant_id: str | None) -> AsyncIterator[Record]:
        tenant = self.customer(customer_tenant_id)
        what = self.what(tenant)
        path = f"/v1.0/reports/getOffice365ServicesUserCounts(period='{REPORT_PERIOD}')"
        # Reports have their own, much lower, limits (14 per 10 min per app per tenant).
        scope = f"graph:{tenant}:reports"
        response = await self.requester.send(self.request(tenant, path, what, scope=scope))
        if response.status_code in (301, 302, 303, 307, 308):
            location = response.headers.get("Location")
            if not location:
                raise MalformedResponse(f"{what}: the report redirect has no Location")
            download = ApiRequest(
                method="GET",
                url=urljoin(str(response.url), location),
                scope=f"graph-download:{tenant}",
                what=f"{what} (download)",
                headers={"Accept": "*/*"},
                pre_authenticated=True,
            )
            response = await self.requester.send(download)
        if response.status_code != 200:
            raise MalformedResponse(f"{what}: unexpected HTTP {response.status_code}")
        for record in parse_services_user_counts(response.content, tenant, what=what):
            yield record


class GraphIdentities(_Graph):
    """The partner's service principals in a customer tenant (one per known app that has one),
    with the expiry of the app registration's newest credential from the partner tenant."""

    source = Source.GRAPH_IDENTITIES

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
        self._expiry: dict[str, tuple[float, datetime | None]] = {}
        self._reading: dict[str, asyncio.Future[datetime | None]] = {}

    async def credential_expires(self, app_id: str) -> datetime | None:
        """Newest credential expiry of the app registration, cached for ``credential_ttl``.

        Every customer's read asks for the same few apps at once: one read of an app is in
        flight at a time, and whoever asks meanwhile shares its answer (or its error)."""
        cached = self._expiry.get(app_id)
        if cached is not None and cached[0] > self.clock():
            return cached[1]
        reading = self._reading.get(app_id)
        if reading is None:
            reading = self._reading[app_id] = asyncio.ensure_future(self._read_expiry(app_id))
            reading.add_done_callback(lambda done: self._forget_reading(app_id, done))
        # Shielded: one reader giving up (a cancelled customer) does not cancel the others'.
        return await asyncio.shield(reading)

    def _forget_reading(self, app_id: str, done: asyncio.Future[datetime | None]) -> None:
        if self._reading.get(app_id) is done:
            del self._reading[app_id]
        if not done.cancelled():
            done.exception()  # retrieved: an error nobody awaits any more is not "never seen"

    async def _read_expiry(self, app_id: str) -> datetime | None:
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
        expires = newest_credential_expiry(application)
        self._expiry[app_id] = (now + self.credential_ttl, expires)
        return expires

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
            expires = await self.credential_expires(app_id)
            yield parse_service_principal(found[0], tenant, name, expires, what=what)


__all__ = [
    "REPORT_COLUMNS",
    "GraphContracts",
    "GraphDirectorySubscriptions",
    "GraphGdap",
    "GraphIdentities",
    "GraphSubscribedSkus",
    "GraphUsageReports",
    "newest_credential_expiry",
    "odata_query",
    "parse_access_assignment",
    "parse_contract",
    "parse_directory_subscription",
    "parse_relationship",
    "parse_service_principal",
    "parse_services_user_counts",
    "parse_subscribed_sku",
]
