"""Partner Center: customers, their CSP subscriptions and usage, and the partner's audit records.

Only the partner's own app, with a token of the partner tenant, may call it; a customer without
a relationship answers 403 as Partner Center does. Collections page with ``MS-ContinuationToken``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from connectors.base import PARTNER_APP
from connectors.records.scope import Source
from standin.emulator.apis.paging import encode_token, window
from standin.emulator.errors import error, unauthorized
from standin.emulator.limits import PC_TENANT
from standin.emulator.routing import Call, RouteTable
from standin.emulator.shapes import partner_center as shapes
from standin.emulator.wire import Answer, Reply, json_reply
from standin.scenario.model import CustomerSpec

if TYPE_CHECKING:
    from standin.emulator.service import Service

ROUTES: RouteTable[Service] = RouteTable("pc")

PC_AUDIENCE = "https://api.partnercenter.microsoft.com"


def guard(svc: Service, call: Call, *, customer: str | None = None, user: bool = False) -> None:
    """Authenticate and throttle a Partner Center call (per partner, or per partner+customer)."""
    principal = svc.authenticate(call, (PC_AUDIENCE,))
    world = call.world
    if principal.tenant_id != world.partner_tenant:
        raise Answer(
            unauthorized(
                call,
                "tenant",
                "A Partner Center token must be issued by the partner tenant.",
                "Bearer",
            )
        )
    if call.identity != PARTNER_APP:
        raise Answer(error(call, 403, "Authorization Failed", 1002))
    key = world.partner_tenant if customer is None else f"{world.partner_tenant}/{customer}"
    svc.throttle(call, [(PC_TENANT, key, 1)])
    if user and not principal.user:
        raise Answer(error(call, 403, "Authorization Failed", 1002))


def guarded_customer(svc: Service, call: Call) -> CustomerSpec:
    """The customer of the path's ``cid``, once the call may read it."""
    tenant = call.params["cid"].lower()
    guard(svc, call, customer=tenant, user=call.params.get("_user") == "1")
    customer = call.world.customer(tenant)
    if customer is None or customer.relationship is None:
        raise Answer(error(call, 403, "No relationship between caller and account.", 20002))
    return customer


def listing(
    svc: Service,
    call: Call,
    source: Source,
    scope: str,
    items: Sequence[Any],
    self_path: str,
    query: dict[str, str],
    shape: Callable[[Any], dict[str, Any]] | None = None,
) -> Reply:
    """One page of a Partner Center collection; ``shape`` turns only that page's items
    into payloads (a 20,000-customer world stays cheap to page through)."""
    token = None
    if (call.req.arg("seekOperation") or "").lower() == "next":
        token = call.req.header("ms-continuationtoken")
        if not token:
            raise Answer(error(call, 400, "MS-ContinuationToken header is missing."))
    offset, size = window(call, source, call.req.arg("size"), token)
    page = offset // size + 1
    fault = svc.fault(call, source, scope, page=page)
    chunk = [shape(x) if shape else x for x in items[offset : offset + size]]
    total = len(items)
    more = offset + size < total
    if fault is not None:
        more = False
        total = max(total, offset + len(chunk) + 1)
    params = dict(query, size=str(size))
    self_uri = f"{self_path}?{urlencode(params)}"
    next_uri = f"{self_uri}&seekOperation=Next" if more else None
    body = shapes.pc_collection(
        chunk, total, self_uri, next_uri, encode_token(offset + size) if more else None
    )
    return json_reply(200, body)


def _filter(call: Call, raw: str) -> tuple[str, str]:
    """(field, lower-cased value) of a Partner Center ``{"Field": ..., "Value": ...}`` filter."""
    try:
        spec = json.loads(raw)
        return str(spec["Field"]), str(spec["Value"]).lower()
    except (ValueError, KeyError, TypeError):
        raise Answer(error(call, 400, "The filter is not valid.", 400)) from None


@ROUTES.route(r"^/v1/customers$")
def pc_customers(svc: Service, call: Call) -> Reply:
    guard(svc, call)
    customers = [c for c in call.world.scenario.customers if c.relationship is not None]
    query: dict[str, str] = {}
    raw = call.req.arg("filter")
    if raw:
        query["filter"] = raw
        field_, value = _filter(call, raw)
        if field_ == "CompanyName":
            customers = [c for c in customers if c.name.lower().startswith(value)]
        elif field_ == "Domain":
            customers = [c for c in customers if c.domain.lower().startswith(value)]
        elif field_ == "IndirectReseller":
            customers = [
                c
                for c in customers
                if c.indirect_reseller and (c.indirect_reseller.tenant_id or "").lower() == value
            ]
        else:
            raise Answer(error(call, 400, f"Filtering on {field_} is not supported.", 400))
    return listing(
        svc,
        call,
        Source.PC_CUSTOMERS,
        "partner",
        customers,
        "/customers",
        query,
        shapes.pc_customer,
    )


@ROUTES.route(r"^/v1/customers/(?P<cid>[^/]+)$")
def pc_customer_get(svc: Service, call: Call) -> Reply:
    customer = guarded_customer(svc, call)
    return json_reply(200, shapes.pc_customer(customer))


@ROUTES.route(r"^/v1/customers/(?P<cid>[^/]+)/subscriptions$")
def pc_subscriptions(svc: Service, call: Call) -> Reply:
    customer = guarded_customer(svc, call)
    subs = customer.csp_subscriptions
    query: dict[str, str] = {}
    mpn = call.req.arg("mpn_id")
    if mpn:
        query["mpn_id"] = mpn
        subs = [s for s in subs if s.partner_id == mpn]
    items = [shapes.pc_subscription(customer, s) for s in subs]
    tenant = customer.tenant_id.lower()
    return listing(
        svc,
        call,
        Source.PC_SUBSCRIPTIONS,
        tenant,
        items,
        f"/customers/{tenant}/subscriptions",
        query,
    )


@ROUTES.route(r"^/v1/customers/(?P<cid>[^/]+)/subscriptions/usagerecords$")
def pc_usage_records(svc: Service, call: Call) -> Reply:
    call.params["_user"] = "1"
    customer = guarded_customer(svc, call)
    items = [shapes.pc_usage_record(a) for a in customer.azure_subscriptions if a.csp]
    tenant = customer.tenant_id.lower()
    path = f"/customers/{tenant}/subscriptions/usagerecords"
    return listing(svc, call, Source.PC_USAGE, tenant, items, path, {})


@ROUTES.route(r"^/v1/customers/(?P<cid>[^/]+)/analytics/licenses/usage$")
def pc_licence_usage(svc: Service, call: Call) -> Reply:
    call.params["_user"] = "1"
    customer = guarded_customer(svc, call)
    items = [shapes.pc_licence_usage(customer, lu) for lu in customer.usage.licence_usage]
    tenant = customer.tenant_id.lower()
    path = f"/customers/{tenant}/analytics/licenses/usage"
    return listing(svc, call, Source.PC_USAGE, tenant, items, path, {})


def _day(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@ROUTES.route(r"^/v1/auditrecords$")
def pc_audit_records(svc: Service, call: Call) -> Reply:
    guard(svc, call)
    raw_start = call.req.arg("startDate")
    start = _day(raw_start)
    if start is None:
        raise Answer(error(call, 400, "startDate is required (YYYY-MM-DD).", 400))
    query = {"startDate": raw_start or ""}
    raw_end = call.req.arg("endDate")
    end = _day(raw_end)
    if raw_end:
        query["endDate"] = raw_end
    events = [e for e in call.world.scenario.audit_events if e.date >= start]
    if end is not None:
        events = [e for e in events if e.date < end + timedelta(days=1)]
    raw_filter = call.req.arg("filter")
    if raw_filter:
        query["filter"] = raw_filter
        field_, value = _filter(call, raw_filter)
        if field_ == "CustomerId":
            events = [e for e in events if (e.customer_tenant_id or "").lower() == value]
        elif field_ == "ResourceType":
            events = [e for e in events if e.resource_type.lower() == value]
        else:
            raise Answer(error(call, 400, f"Filtering on {field_} is not supported.", 400))
    events.sort(key=lambda e: e.date)
    scenario = call.world.scenario
    return listing(
        svc,
        call,
        Source.PC_AUDIT,
        "partner",
        events,
        "/auditrecords",
        query,
        lambda e: shapes.pc_audit_record(scenario, e),
    )
