"""Nothing but Microsoft's own headers goes to Microsoft: every live connector, reading the demo
world from the emulator through the production client, sends exactly the headers listed here."""

from __future__ import annotations

import contextlib
from typing import Any

import httpx
import pytest

from connectors.base import PARTNER_APP
from connectors.destinations import DownloadGuard
from connectors.endpoints import CloudEndpoints
from connectors.errors import ConnectorError
from connectors.http.client import make_client
from connectors.live import live_connectors
from connectors.records.scope import ScopeKind
from connectors.retry_after import RetryPolicy
from standin.scenario import Scenario

pytestmark = pytest.mark.anyio

HTTP = {"host", "user-agent", "accept", "accept-encoding", "connection"}
"""What every request carries (httpx and the client's defaults)."""
PARTNER_CENTER = HTTP | {"authorization", "ms-requestid", "ms-correlationid", "ms-contract-version"}
GRAPH = HTTP | {"authorization", "client-request-id"}
ARM = HTTP | {"authorization"}
POST_JSON = {"content-type", "content-length"}

EXPECTED: dict[str, set[frozenset[str]]] = {
    "partner_center.customers": {frozenset(PARTNER_CENTER)},
    "partner_center.subscriptions": {frozenset(PARTNER_CENTER)},
    "partner_center.audit_records": {frozenset(PARTNER_CENTER)},
    "partner_center.usage": {frozenset(PARTNER_CENTER)},
    "graph.contracts": {frozenset(GRAPH)},
    "graph.gdap": {frozenset(GRAPH)},
    "graph.subscribed_skus": {frozenset(GRAPH)},
    "graph.directory_subscriptions": {frozenset(GRAPH)},
    "graph.usage_reports": {frozenset(GRAPH), frozenset(HTTP)},  # the download: no token
    "graph.identities": {frozenset(GRAPH)},
    "arm.subscriptions": {frozenset(ARM)},
    "arm.pal": {frozenset(ARM)},
    "insights.attribution": {frozenset(ARM), frozenset(ARM | POST_JSON), frozenset(HTTP)},
}


class Recording(httpx.AsyncBaseTransport):
    """Remembers every request on its way to the wire."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.seen: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


async def test_every_connector_sends_only_microsofts_own_headers(
    emulator: Any, tokens: Any, scenario: Scenario
) -> None:
    wires: list[Recording] = []

    def record(inner: httpx.AsyncBaseTransport) -> httpx.AsyncBaseTransport:
        wires.append(Recording(inner))
        return wires[-1]

    identities = {PARTNER_APP: scenario.partner.app.client_id}
    identities.update({c.name: c.client_id for c in scenario.partner.carriers})
    sent: dict[str, set[frozenset[str]]] = {}
    async with make_client(ca_bundle=emulator.ca_path, timeout=10, wrap=record) as client:
        made = live_connectors(
            CloudEndpoints.single_origin(emulator.base_url),
            tokens,
            client,
            partner_tenant_id=scenario.partner.tenant_id,
            identities=identities,
            app_user=True,
            retry=RetryPolicy(attempts=1, throttled_attempts=1),
            downloads=DownloadGuard(allow_origins=[emulator.base_url]),
        )
        [wire] = wires
        for connector in made:
            partner = connector.scope_kind is ScopeKind.PARTNER
            scopes = [None] if partner else [c.tenant_id for c in scenario.customers[:3]]
            wire.seen.clear()
            for scope in scopes:
                with contextlib.suppress(ConnectorError):  # the demo's faults: sent all the same
                    [r async for r in connector.fetch(scope)]
            assert wire.seen, f"{connector} sent nothing"
            names = {frozenset(h.lower() for h in r.headers) for r in wire.seen}
            sent.setdefault(connector.source.value, set()).update(names)
    assert sent == EXPECTED
    assert not [s for s, sets in sent.items() for n in sets for h in n if "partnerlink" in h]
