"""Partner Center connectors: lenient parsing of documented quirks, audit look-back, app+user."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import httpx
import pytest

from connectors.base import APP_USER
from connectors.errors import MalformedResponse
from connectors.http.requester import Requester
from connectors.partner_center import (
    PartnerCenterAuditRecords,
    PartnerCenterCustomers,
    PartnerCenterSubscriptions,
    PartnerCenterUsage,
    audit_event_id,
    parse_audit_record,
    parse_customer,
    parse_subscription,
)
from connectors.records.azure import AzureUsage
from connectors.records.customers import AuditEvent, CspSubscription, Customer
from connectors.records.licences import LicenseUsage
from tests.connectors.support import (
    CUSTOMER,
    ENDPOINTS,
    PARTNER,
    CountingTokens,
    only,
    read_all,
)

pytestmark = pytest.mark.anyio


def collection(*items: dict[str, object]) -> dict[str, object]:
    return {
        "totalCount": len(items),
        "items": list(items),
        "attributes": {"objectType": "Collection"},
    }


def test_customer_id_wins_over_a_placeholder_tenant_id() -> None:
    customer = parse_customer(
        {
            "id": "B44BB1FB-C595-45B0-9E09-D657365580BF",
            "companyProfile": {"tenantId": "<guid>", "companyName": "X"},
        }
    )
    assert customer.tenant_id == "b44bb1fb-c595-45b0-9e09-d657365580bf"
    assert customer.domain is None


def test_customer_without_any_id_is_malformed() -> None:
    with pytest.raises(MalformedResponse):
        parse_customer({"companyProfile": {"tenantId": "<guid>"}})


def test_subscription_with_malformed_date_and_no_offer_parses_leniently() -> None:
    sub = parse_subscription(
        {
            "id": "83EF9D05-4169-4EF9-9657-0E86B1EAB1DE",
            "quantity": 1,
            "creationDate": "2015-11-25T06: 41: 12Z",
            "status": "active",
            "billingType": "none",
        },
        CUSTOMER.upper(),
    )
    assert sub == CspSubscription(
        customer_tenant_id=CUSTOMER,
        subscription_id="83ef9d05-4169-4ef9-9657-0e86b1eab1de",
        quantity=1,
        status="active",
        billing_type="none",
    )


def test_audit_record_without_id_gets_a_stable_hash() -> None:
    item = {
        "operationType": "add_customer",
        "operationDate": "2026-01-01T00:00:00Z",
        "resourceType": "customer",
        "customerId": "C",
    }
    assert audit_event_id(item) == audit_event_id(dict(item))
    assert audit_event_id(item) != audit_event_id({**item, "customerId": "D"})
    assert audit_event_id({**item, "id": "ae-1"}) == "ae-1"
    event = parse_audit_record({**item, "customerName": "Relecloud", "operationStatus": "ok"})
    assert event.customer_tenant_id == "c"
    assert event.customer_name is None


def test_audit_record_without_a_readable_date_is_malformed() -> None:
    with pytest.raises(MalformedResponse):
        parse_audit_record({"operationType": "x", "operationDate": "2015-11-25T06: 41: 12Z"})


async def test_customers_ask_the_documented_page_size(
    requester_for: Callable[..., Requester],
) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(
            200,
            json=collection(
                {
                    "id": CUSTOMER,
                    "companyProfile": {"companyName": "Alpine", "domain": "a.example"},
                    "relationshipToPartner": "reseller",
                    "associatedPartnerId": "5300001",
                }
            ),
        )

    [customer] = only(
        Customer,
        await read_all(
            PartnerCenterCustomers(requester_for(handler), ENDPOINTS, partner_tenant_id=PARTNER),
            None,
        ),
    )
    assert str(seen[0].url) == "https://api.partnercenter.microsoft.com/v1/customers?size=100"
    assert customer.associated_partner_id == "5300001"


async def test_subscriptions_are_read_per_customer_with_a_partner_token(
    requester_for: Callable[..., Requester], tokens: CountingTokens
) -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        return httpx.Response(
            200,
            json=collection(
                {"id": "E1", "offerId": "CFQ7TTC0LCHC:0002", "quantity": 25, "partnerId": "5300001"}
            ),
        )

    [sub] = only(
        CspSubscription,
        await read_all(
            PartnerCenterSubscriptions(
                requester_for(handler), ENDPOINTS, partner_tenant_id=PARTNER
            ),
            CUSTOMER.upper(),
        ),
    )
    assert seen == [f"/v1/customers/{CUSTOMER}/subscriptions"]
    assert (sub.subscription_id, sub.partner_id) == ("e1", "5300001")
    assert tokens.calls[0]["tenant"] == PARTNER


async def test_audit_records_start_at_the_look_back(
    requester_for: Callable[..., Requester],
) -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(
            200,
            json=collection(
                {
                    "id": "ae-1",
                    "operationType": "add_customer",
                    "operationDate": "2026-11-01T10:00:00.1234567Z",
                    "customerId": CUSTOMER.upper(),
                }
            ),
        )

    connector = PartnerCenterAuditRecords(
        requester_for(handler),
        ENDPOINTS,
        partner_tenant_id=PARTNER,
        lookback_days=30,
        clock=lambda: datetime(2026, 11, 23, 5, 0, tzinfo=UTC),
    )
    [event] = only(AuditEvent, await read_all(connector, None))
    assert seen[0].url.params["startDate"] == "2026-10-24"
    assert seen[0].url.params["size"] == "500"
    assert event.customer_tenant_id == CUSTOMER
    with pytest.raises(ValueError, match="90"):
        PartnerCenterAuditRecords(
            requester_for(handler), ENDPOINTS, partner_tenant_id=PARTNER, lookback_days=91
        )


async def test_usage_reads_both_endpoints_with_an_app_user_token(
    requester_for: Callable[..., Requester], tokens: CountingTokens
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/usagerecords"):
            return httpx.Response(
                200,
                json=collection(
                    {
                        "resourceId": "50000001-0000-4000-8000-000000000001",
                        "resourceName": "prod",
                        "totalCost": 4200.0,
                        "currencyCode": "USD",
                        "usdTotalCost": 4200.0,
                        "partnerOnRecord": "4100002",
                    }
                ),
            )
        return httpx.Response(
            200,
            json=collection(
                {
                    "productName": "OFFICE 365 E3",
                    "workloadName": "Exchange",
                    "licensesActive": 3,
                    "licensesQualified": 5,
                }
            ),
        )

    records = [
        r
        async for r in PartnerCenterUsage(
            requester_for(handler), ENDPOINTS, partner_tenant_id=PARTNER
        ).fetch(CUSTOMER)
    ]
    assert records == [
        AzureUsage(
            customer_tenant_id=CUSTOMER,
            resource_id="50000001-0000-4000-8000-000000000001",
            name="prod",
            total_cost=4200.0,
            currency="USD",
            usd_total_cost=4200.0,
            partner_on_record="4100002",
        ),
        LicenseUsage(
            customer_tenant_id=CUSTOMER,
            product="OFFICE 365 E3",
            workload="Exchange",
            licenses_active=3,
            licenses_qualified=5,
        ),
    ]
    assert {c["identity"] for c in tokens.calls} == {APP_USER}


async def test_customer_scoped_source_refuses_partner_scope(
    requester_for: Callable[..., Requester],
) -> None:
    connector = PartnerCenterSubscriptions(
        requester_for(lambda r: httpx.Response(200)), ENDPOINTS, partner_tenant_id=PARTNER
    )
    with pytest.raises(ValueError, match="per customer"):
        [r async for r in connector.fetch(None)]
