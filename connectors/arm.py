"""Azure Resource Manager connectors: a customer's Azure subscriptions, and Partner Admin Link
read (and written) as each identity that can carry it.

PAL belongs to one identity in one tenant and only that identity can read it (no list across
identities). The three outcomes are kept apart (guarantee proven-absence): 200 is a link, 404
``ManagementPartnerNotFound`` is an authenticated "not linked", and a refused token, 401 or 403
is "cannot verify" (:class:`~connectors.errors.AuthError`, raised).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any
from urllib.parse import quote

import structlog

from connectors.base import PARTNER_APP, Connector
from connectors.context import LiveContext
from connectors.endpoints import CloudEndpoints
from connectors.errors import MalformedResponse, PermanentError
from connectors.http.connector import LiveConnector
from connectors.http.fields import name_text, nested, required, text
from connectors.http.paging import ArmPaginator, paginate
from connectors.http.redact import escape
from connectors.http.request import ApiRequest
from connectors.http.requester import Requester
from connectors.records.azure import AzureSubscription
from connectors.records.pal import PalLink
from connectors.records.record import Record
from connectors.records.scope import ScopeKind, Source
from connectors.source_row import Cadence, SourceRow

log = structlog.get_logger()

SUBSCRIPTIONS_API = "2022-12-01"
PAL_API = "2018-02-01"
PAL_PATH = "/providers/Microsoft.ManagementPartner/partners"
NOT_LINKED = "ManagementPartnerNotFound"


def token_identity(identity: str) -> str | None:
    """What the token provider is asked for: ``None`` is the partner's own app."""
    return None if identity == PARTNER_APP else identity


def token_object_id(token: str) -> str | None:
    """The ``oid`` claim of an Entra access token (the signed-in principal's object id in the
    tenant that issued it); ``None`` for an opaque token. Read only, never verified or logged."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload))
    except (ValueError, binascii.Error):
        return None
    oid = claims.get("oid") if isinstance(claims, dict) else None
    return oid.lower() if isinstance(oid, str) and oid else None


# ---------------------------------------------------------------------------------------------
# Parsing


def parse_subscription(
    item: Mapping[str, Any], customer_tenant_id: str, *, what: str = "Azure subscriptions"
) -> AzureSubscription:
    """An item of ``GET /subscriptions``, with its Lighthouse ``managedByTenants``."""
    managed = item.get("managedByTenants") or []
    tenants = tuple(
        t.lower() for t in (text(m.get("tenantId")) for m in managed if isinstance(m, Mapping)) if t
    )
    return AzureSubscription(
        customer_tenant_id=customer_tenant_id.lower(),
        subscription_id=required(item, "subscriptionId", what=what).lower(),
        display_name=name_text(item.get("displayName")),
        state=text(item.get("state")),
        managed_by_tenants=tenants,
    )


def parse_partner(
    body: Mapping[str, Any],
    customer_tenant_id: str,
    identity: str,
    *,
    subscriptions: tuple[str, ...] = (),
    object_id: str | None = None,
    what: str = "Partner Admin Link",
) -> PalLink:
    """A ``Microsoft.ManagementPartner/partners`` answer (the identity is linked).

    ``version`` is an integer in real answers and a string in the spec example; it is not read.
    ``updated`` stays ``None``, as in the fake connectors (the contract).
    """
    partner = text(nested(body, "properties", "partnerId")) or text(body.get("name"))
    if partner is None:
        raise MalformedResponse(f"{what}: the answer names no partnerId")
    return PalLink(
        customer_tenant_id=customer_tenant_id.lower(),
        identity=identity,
        object_id=(text(nested(body, "properties", "objectId")) or "").lower() or object_id,
        partner_id=partner,
        state=text(nested(body, "properties", "state")),
        subscriptions=subscriptions,
    )


def is_not_linked(error: PermanentError) -> bool:
    """Whether an error is ARM's authenticated "this identity has no Partner Admin Link"."""
    return error.status == 404 and error.code == NOT_LINKED


# ---------------------------------------------------------------------------------------------
# Connectors


class _Arm(LiveConnector):
    """Shared by the ARM connectors: a customer-tenant token of one identity."""

    def arm_request(
        self,
        tenant: str,
        identity: str,
        method: str,
        path: str,
        what: str,
        *,
        api_version: str,
        json_body: Any = None,
    ) -> ApiRequest:
        return ApiRequest(
            method=method,
            url=f"{self.endpoints.arm}{path}",
            params={"api-version": api_version},
            scope=f"arm:{tenant}/{identity}",
            what=what,
            tenant_id=tenant,
            resource=self.endpoints.arm_resource,
            identity=token_identity(identity),
            json=json_body,
            # The PAL read lists /subscriptions (another source's endpoint) as its identity:
            # the source rides in the request's extensions, so the local emulator can
            # attribute that call's faults to arm.pal as the fake does. Never a header.
            source=self.source.value,
        )

    async def subscription_ids(self, tenant: str, identity: str, what: str) -> tuple[str, ...]:
        """Subscriptions ``identity`` can list in ``tenant``, lower-cased and sorted."""
        request = self.arm_request(
            tenant, identity, "GET", "/subscriptions", what, api_version=SUBSCRIPTIONS_API
        )
        found = {
            required(item, "subscriptionId", what=what).lower()
            async for item in paginate(self.requester, request, ArmPaginator())
        }
        return tuple(sorted(found))


class ArmSubscriptions(_Arm):
    """``GET /subscriptions?api-version=2022-12-01`` in the customer tenant, as the partner's
    app: the subscriptions it holds a role on, with their Lighthouse managing tenants."""

    row = SourceRow(
        source=Source.ARM_SUBSCRIPTIONS,
        scope_kind=ScopeKind.CUSTOMER,
        kinds=(AzureSubscription.KIND,),
        page_size=100,
        cadence=Cadence.ON_CHANGE,
    )

    @classmethod
    def connect(cls, context: LiveContext) -> Iterable[Connector]:
        return [cls(context.requester, context.endpoints)]

    async def fetch(self, customer_tenant_id: str | None) -> AsyncIterator[Record]:
        tenant = self.customer(customer_tenant_id)
        what = self.what(tenant)
        request = self.arm_request(
            tenant, PARTNER_APP, "GET", "/subscriptions", what, api_version=SUBSCRIPTIONS_API
        )
        async for item in paginate(self.requester, request, ArmPaginator()):
            yield parse_subscription(item, tenant, what=what)


class ArmPal(_Arm):
    """The Partner Admin Link of one identity in the customer tenant, read as that identity,
    plus the subscriptions that identity reaches (where its link earns credit)."""

    row = SourceRow(
        source=Source.ARM_PAL,
        scope_kind=ScopeKind.CUSTOMER,
        kinds=(PalLink.KIND,),
        page_size=100,  # one object per identity, one request
        per_identity=True,
    )

    @classmethod
    def connect(cls, context: LiveContext) -> Iterable[Connector]:
        """One per identity the agent signs in as: each identity's link is its own."""
        return [
            cls(context.requester, context.endpoints, identity=name) for name in context.identities
        ]

    def __init__(
        self, requester: Requester, endpoints: CloudEndpoints, *, identity: str = PARTNER_APP
    ) -> None:
        super().__init__(requester, endpoints, identity=identity)
        self.carrier = identity

    async def _object_id(self, tenant: str) -> str | None:
        token = await self.requester.bearer(
            tenant, self.endpoints.arm_resource, token_identity(self.carrier)
        )
        return token_object_id(token)

    async def read(self, tenant: str, what: str) -> PalLink:
        """The link as ARM reports it now (``partner_id=None``: authenticated, not linked)."""
        request = self.arm_request(tenant, self.carrier, "GET", PAL_PATH, what, api_version=PAL_API)
        try:
            body = await self.requester.get_json(request)
        except PermanentError as exc:
            if not is_not_linked(exc):
                raise
            subscriptions = await self.subscription_ids(tenant, self.carrier, what)
            return PalLink(
                customer_tenant_id=tenant,
                identity=self.carrier,
                object_id=await self._object_id(tenant),
                partner_id=None,
                subscriptions=subscriptions,
            )
        subscriptions = await self.subscription_ids(tenant, self.carrier, what)
        fallback = None if nested(body, "properties", "objectId") else await self._object_id(tenant)
        return parse_partner(
            body,
            tenant,
            self.carrier,
            subscriptions=subscriptions,
            object_id=fallback,
            what=what,
        )

    async def fetch(self, customer_tenant_id: str | None) -> AsyncIterator[Record]:
        tenant = self.customer(customer_tenant_id)
        yield await self.read(tenant, self.what(tenant))


class PalWriter(_Arm):
    """Sets an identity's Partner Admin Link (for the repair command): PUT when it has none,
    PATCH when it points elsewhere, nothing when it is already right."""

    row = ArmPal.row

    async def pal_link(self, identity: str, tenant: str, partner_id: str) -> PalLink:
        tenant = tenant.lower()
        what = f"{self.source} write for {tenant}/{identity}"
        reader = ArmPal(self.requester, self.endpoints, identity=identity)
        current = await reader.read(tenant, what)
        if current.partner_id == partner_id:
            return current
        method = "PUT" if current.partner_id is None else "PATCH"
        request = self.arm_request(
            tenant,
            identity,
            method,
            f"{PAL_PATH}/{quote(partner_id, safe='')}",
            what,
            api_version=PAL_API,
        )
        body = await self.requester.get_json(request)
        log.info(
            "arm_pal_written",
            tenant=tenant,
            identity=escape(identity),
            method=method,
            partner_id=escape(partner_id),
        )
        return parse_partner(
            body,
            tenant,
            identity,
            subscriptions=current.subscriptions,
            object_id=current.object_id,
            what=what,
        )
