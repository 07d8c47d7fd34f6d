"""Partner Center REST connectors: customers, their CSP subscriptions, audit records and usage.

Everything is read with a token of the partner tenant (``MS-RequestId``/``MS-CorrelationId`` on
every call, seek paging with ``MS-ContinuationToken``). Parsing is lenient where the documented
examples are sloppy (placeholder GUIDs, ``"2015-11-25T06: 41: 12Z"``, items without ``offerId``)
and loud where a record cannot exist without the field (an id).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from connectors.base import APP_USER, Connector
from connectors.context import LiveContext
from connectors.endpoints import CloudEndpoints
from connectors.errors import MalformedResponse
from connectors.http.connector import LiveConnector
from connectors.http.fields import (
    flag,
    guid,
    integer,
    name_text,
    nested,
    number,
    required,
    text,
    timestamp,
)
from connectors.http.paging import PartnerCenterPaginator, paginate
from connectors.http.request import ApiRequest
from connectors.http.requester import Requester
from connectors.records.azure import AzureUsage
from connectors.records.customers import AuditEvent, CspSubscription, Customer
from connectors.records.licences import LicenseUsage
from connectors.records.record import Record
from connectors.records.scope import ScopeKind, Source
from connectors.source_row import Cadence, SourceRow

# ---------------------------------------------------------------------------------------------
# Parsing: one pure function per payload item, used by the connectors and the contract tests


def parse_customer(item: Mapping[str, Any], *, what: str = "customers") -> Customer:
    """A ``Customer`` item of ``GET /v1/customers``.

    The tenant id is the item's ``id``; ``companyProfile.tenantId`` is a doc placeholder
    (``"<guid>"``) in the examples and only used when ``id`` is absent.
    """
    tenant = guid(item.get("id")) or guid(nested(item, "companyProfile", "tenantId"))
    if tenant is None:
        tenant = required(item, "id", what=what).lower()
    return Customer(
        tenant_id=tenant,
        name=name_text(nested(item, "companyProfile", "companyName")) or "",
        domain=name_text(nested(item, "companyProfile", "domain")),
        relationship=text(item.get("relationshipToPartner")),
        associated_partner_id=text(item.get("associatedPartnerId")),
        allow_delegated_access=flag(item.get("allowDelegatedAccess")),
    )


def parse_subscription(
    item: Mapping[str, Any], customer_tenant_id: str, *, what: str = "subscriptions"
) -> CspSubscription:
    """A ``Subscription`` item of ``GET /v1/customers/{id}/subscriptions``."""
    return CspSubscription(
        customer_tenant_id=customer_tenant_id.lower(),
        subscription_id=required(item, "id", what=what).lower(),
        offer_id=text(item.get("offerId")),
        offer_name=name_text(item.get("offerName")),
        quantity=integer(item.get("quantity")),
        status=text(item.get("status")),
        partner_id=text(item.get("partnerId")),
        billing_type=text(item.get("billingType")),
        created=timestamp(item.get("creationDate")),
    )


def audit_event_id(item: Mapping[str, Any]) -> str:
    """The record's ``id``, or (older records have none) a stable hash of what identifies it."""
    given = text(item.get("id"))
    if given is not None:
        return given
    parts = [
        str(item.get(key) or "")
        for key in ("operationDate", "resourceType", "operationType", "customerId")
    ]
    return "sha256:" + hashlib.sha256("|".join(parts).encode("utf-8")).hexdigest()[:32]


def parse_audit_record(item: Mapping[str, Any], *, what: str = "audit records") -> AuditEvent:
    """An ``AuditRecord`` of ``GET /v1/auditrecords``.

    ``customer_name`` stays ``None`` as in the fake connectors (the contract the store is
    tested against); the customer is identified by its tenant id.
    """
    operation = required(item, "operationType", what=what)
    when = timestamp(item.get("operationDate"))
    if when is None:
        raise MalformedResponse(f"{what}: an audit record has no readable operationDate")
    return AuditEvent(
        event_id=audit_event_id(item),
        operation_type=operation,
        operation_date=when,
        resource_type=text(item.get("resourceType")),
        customer_tenant_id=(text(item.get("customerId")) or "").lower() or None,
        status=text(item.get("operationStatus")),
    )


def parse_usage_record(
    item: Mapping[str, Any], customer_tenant_id: str, *, what: str = "usage records"
) -> AzureUsage:
    """A ``SubscriptionMonthlyUsageRecord`` (Azure plan, with ``partnerOnRecord``)."""
    resource = text(item.get("resourceId")) or required(item, "id", what=what)
    return AzureUsage(
        customer_tenant_id=customer_tenant_id.lower(),
        resource_id=resource.lower(),
        name=name_text(item.get("resourceName")) or name_text(item.get("name")),
        total_cost=number(item.get("totalCost")),
        currency=text(item.get("currencyCode")),
        usd_total_cost=number(item.get("usdTotalCost")),
        partner_on_record=text(item.get("partnerOnRecord")),
    )


def parse_license_usage(
    item: Mapping[str, Any], customer_tenant_id: str, *, what: str = "licence usage"
) -> LicenseUsage:
    """A ``CustomerLicensesUsageInsights`` item."""
    return LicenseUsage(
        customer_tenant_id=customer_tenant_id.lower(),
        product=required(item, "productName", what=what),
        workload=text(item.get("workloadName")),
        licenses_active=integer(item.get("licensesActive")),
        licenses_qualified=integer(item.get("licensesQualified")),
    )


# ---------------------------------------------------------------------------------------------
# Connectors


class _PartnerCenter(LiveConnector):
    """Shared by the Partner Center connectors: partner-tenant token, one throttling scope."""

    token_identity: str | None = None
    """``None``: the partner's app (app-only); :data:`~connectors.base.APP_USER` for delegated."""

    def __init__(
        self, requester: Requester, endpoints: CloudEndpoints, *, partner_tenant_id: str
    ) -> None:
        super().__init__(requester, endpoints)
        self.partner_tenant_id = partner_tenant_id.lower()
        self.pager = PartnerCenterPaginator(endpoints)

    @classmethod
    def connect(cls, context: LiveContext) -> Iterable[Connector]:
        return [
            cls(context.requester, context.endpoints, partner_tenant_id=context.partner_tenant_id)
        ]

    @property
    def scope(self) -> str:
        # Partner Center throttles per partner tenant: one 429 pauses all of it (guarantee
        # retry-after).
        return f"pc:{self.partner_tenant_id}"

    def request(
        self,
        path: str,
        what: str,
        *,
        params: Mapping[str, str] | None = None,
        correlation_id: str | None = None,
    ) -> ApiRequest:
        return ApiRequest(
            method="GET",
            url=f"{self.endpoints.partner_center_v1}{path}",
            params=params,
            scope=self.scope,
            what=what,
            tenant_id=self.partner_tenant_id,
            resource=self.endpoints.partner_center_resource,
            identity=self.token_identity,
            partner_center=True,
            correlation_id=correlation_id,
        )

    def listing(
        self,
        path: str,
        what: str,
        *,
        params: Mapping[str, str] | None = None,
        correlation_id: str | None = None,
    ) -> AsyncIterator[dict[str, Any]]:
        first = self.request(path, what, params=params, correlation_id=correlation_id)
        return paginate(self.requester, first, self.pager)


def _segment(value: str) -> str:
    return quote(value, safe="")


class PartnerCenterCustomers(_PartnerCenter):
    """``GET /v1/customers?size=N``: the partner's CSP customers (partner scope)."""

    row = SourceRow(
        source=Source.PC_CUSTOMERS,
        scope_kind=ScopeKind.PARTNER,
        kinds=(Customer.KIND,),
        page_size=100,
    )

    async def fetch(self, customer_tenant_id: str | None) -> AsyncIterator[Record]:
        what = self.what(None)
        params = {"size": str(self.page_size)}
        async for item in self.listing(
            "/customers", what, params=params, correlation_id=str(uuid.uuid4())
        ):
            yield parse_customer(item, what=what)


class PartnerCenterSubscriptions(_PartnerCenter):
    """``GET /v1/customers/{id}/subscriptions``: CSP subscriptions of one customer."""

    row = SourceRow(
        source=Source.PC_SUBSCRIPTIONS,
        scope_kind=ScopeKind.CUSTOMER,
        kinds=(CspSubscription.KIND,),
        page_size=100,
        requires=Source.PC_CUSTOMERS,
        cadence=Cadence.ON_CHANGE,
    )

    async def fetch(self, customer_tenant_id: str | None) -> AsyncIterator[Record]:
        tenant = self.customer(customer_tenant_id)
        what = self.what(tenant)
        path = f"/customers/{_segment(tenant)}/subscriptions"
        async for item in self.listing(path, what, correlation_id=str(uuid.uuid4())):
            yield parse_subscription(item, tenant, what=what)


class PartnerCenterAuditRecords(_PartnerCenter):
    """``GET /v1/auditrecords?startDate=``: the change feed, ``lookback_days`` back (1-90; the
    API refuses a start date more than 90 days ago)."""

    row = SourceRow(
        source=Source.PC_AUDIT,
        scope_kind=ScopeKind.PARTNER,
        kinds=(AuditEvent.KIND,),
        page_size=500,
    )

    @classmethod
    def connect(cls, context: LiveContext) -> Iterable[Connector]:
        return [
            cls(
                context.requester,
                context.endpoints,
                partner_tenant_id=context.partner_tenant_id,
                lookback_days=context.audit_lookback_days,
            )
        ]

    def __init__(
        self,
        requester: Requester,
        endpoints: CloudEndpoints,
        *,
        partner_tenant_id: str,
        lookback_days: int = 30,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        if not 1 <= lookback_days <= 90:
            raise ValueError("lookback_days must be between 1 and 90 (Partner Center keeps 90)")
        super().__init__(requester, endpoints, partner_tenant_id=partner_tenant_id)
        self.lookback = timedelta(days=lookback_days)
        self.clock = clock

    async def fetch(self, customer_tenant_id: str | None) -> AsyncIterator[Record]:
        what = self.what(None)
        start = (self.clock() - self.lookback).date().isoformat()
        params = {"startDate": start, "size": str(self.page_size)}
        async for item in self.listing(
            "/auditrecords", what, params=params, correlation_id=str(uuid.uuid4())
        ):
            yield parse_audit_record(item, what=what)


class PartnerCenterUsage(_PartnerCenter):
    """Azure plan usage records (with ``partnerOnRecord``) and licence usage of one customer.

    Both endpoints accept only an app+user token: the token provider is asked for
    ``identity=user_identity``.
    """

    row = SourceRow(
        source=Source.PC_USAGE,
        scope_kind=ScopeKind.CUSTOMER,
        kinds=(AzureUsage.KIND, LicenseUsage.KIND),
        page_size=100,
        requires=Source.PC_CUSTOMERS,
        cadence=Cadence.ON_CHANGE,
    )

    @classmethod
    def connect(cls, context: LiveContext) -> Iterable[Connector]:
        """None without an app+user token: left out rather than failing every run."""
        if not context.app_user:
            return []
        return [
            cls(
                context.requester,
                context.endpoints,
                partner_tenant_id=context.partner_tenant_id,
                user_identity=context.user_identity,
            )
        ]

    def __init__(
        self,
        requester: Requester,
        endpoints: CloudEndpoints,
        *,
        partner_tenant_id: str,
        user_identity: str = APP_USER,
    ) -> None:
        super().__init__(requester, endpoints, partner_tenant_id=partner_tenant_id)
        self.token_identity = user_identity

    async def fetch(self, customer_tenant_id: str | None) -> AsyncIterator[Record]:
        tenant = self.customer(customer_tenant_id)
        what = self.what(tenant)
        correlation = str(uuid.uuid4())
        base = f"/customers/{_segment(tenant)}"
        async for item in self.listing(
            f"{base}/subscriptions/usagerecords", what, correlation_id=correlation
        ):
            yield parse_usage_record(item, tenant, what=what)
        async for item in self.listing(
            f"{base}/analytics/licenses/usage", what, correlation_id=correlation
        ):
            yield parse_license_usage(item, tenant, what=what)
