"""Whether an identity may read one Azure subscription: ``GET /subscriptions/{id}`` as that
identity in the customer's tenant.

ARM lists only the subscriptions an identity holds a role on, so a subscription the partner
knows of (from Partner Center usage, insight reports or an earlier read) but does not see in the
listing is asked for by id: 200 is readable, 403 ``AuthorizationFailed`` is "no Azure role on
it", 404 ``SubscriptionNotFound`` is "not in this tenant" (cancelled or moved). Anything else
raises, like every connector.
"""

from __future__ import annotations

from enum import StrEnum
from urllib.parse import quote

from connectors.arm import SUBSCRIPTIONS_API, token_identity
from connectors.endpoints import CloudEndpoints
from connectors.errors import ConnectorError
from connectors.http.request import ApiRequest
from connectors.http.requester import Requester

__all__ = ["SubscriptionAccess", "subscription_access"]

NO_ROLE = "AuthorizationFailed"
NOT_FOUND = "SubscriptionNotFound"


class SubscriptionAccess(StrEnum):
    READABLE = "readable"
    NO_ROLE = "no_role"
    NOT_FOUND = "not_found"


async def subscription_access(
    requester: Requester,
    endpoints: CloudEndpoints,
    tenant: str,
    subscription_id: str,
    identity: str,
) -> SubscriptionAccess:
    """How ``identity`` fares reading ``subscription_id`` in ``tenant``."""
    tenant = tenant.lower()
    request = ApiRequest(
        method="GET",
        url=f"{endpoints.arm}/subscriptions/{quote(subscription_id.lower(), safe='')}",
        params={"api-version": SUBSCRIPTIONS_API},
        scope=f"arm:{tenant}/{identity}",
        what=f"Azure subscription {subscription_id.lower()} in {tenant} as {identity}",
        tenant_id=tenant,
        resource=endpoints.arm_resource,
        identity=token_identity(identity),
    )
    try:
        await requester.get_json(request)
    except ConnectorError as exc:
        if exc.status == 403 and exc.code == NO_ROLE:
            return SubscriptionAccess.NO_ROLE
        if exc.status == 404 and exc.code == NOT_FOUND:
            return SubscriptionAccess.NOT_FOUND
        raise
    return SubscriptionAccess.READABLE
