"""An answer over its cap fails that (source, scope) as malformed and the run goes on: a sync over
the fake world with the live subscribed-SKU reader, one customer of which answers 300 MB."""

from __future__ import annotations

import asyncio

import httpx

from agent.store import RunStatus, Store
from agent.sync import Syncer, SyncOutcome
from connectors.endpoints import CloudEndpoints
from connectors.graph.licences import GraphSubscribedSkus
from connectors.http.body import AnswerCaps
from connectors.http.client import make_client
from connectors.http.requester import Requester
from connectors.records.scope import Source
from standin.fake import FakeWorld
from tests.conftest import Clock
from tests.connectors.support import CountingTokens, Drip, zeros
from tests.worlds import C1, C2, world

SKU = {"skuId": "c7df2760-2c81-4ef7-b578-5b5392b571df", "skuPartNumber": "ENTERPRISEPREMIUM"}


def test_an_answer_over_the_cap_fails_its_scope_and_the_rest_of_the_run_completes(
    store: Store, clock: Clock
) -> None:
    huge: list[Drip] = []

    class Tokens(CountingTokens):
        """Hands each tenant its own token, so the transport can tell whose read it is."""

        async def token(self, tenant_id: str, resource: str, **kw: object) -> str:
            await super().token(tenant_id, resource, **kw)  # type: ignore[arg-type]
            return f"token-of-{tenant_id}"

    def handler(request: httpx.Request) -> httpx.Response:
        if request.headers["Authorization"] == f"Bearer token-of-{C1}":
            huge.append(Drip(zeros(300_000_000)))
            return httpx.Response(200, stream=huge[-1])
        return httpx.Response(200, json={"value": [SKU]})

    async def run() -> SyncOutcome:
        async with make_client(transport=httpx.MockTransport(handler)) as client:
            requester = Requester(client, Tokens(), caps=AnswerCaps(page=2_000_000))
            scenario = world()
            connectors = [
                c for c in FakeWorld(scenario).connectors() if c.source is not Source.GRAPH_SKUS
            ]
            live = GraphSubscribedSkus(
                requester, CloudEndpoints.public(), partner_tenant_id=scenario.partner.tenant_id
            )
            connectors.append(live)
            return await Syncer(store, connectors, clock=clock).run()

    outcome = asyncio.run(run())
    assert outcome.status is RunStatus.PARTIAL
    statuses = store.statuses(outcome.run_id)
    failed = statuses[("graph.subscribed_skus", C1)]
    assert (failed.status, failed.error_kind) == ("failed", "permanent")
    assert "answer over 2 MB" in (failed.error or "")
    assert statuses[("graph.subscribed_skus", C2)].status == "complete"
    others = {k: v.status for k, v in statuses.items() if k[0] != "graph.subscribed_skus"}
    assert set(others.values()) == {"complete"}, others
    [body] = huge
    assert body.pulled <= 2_000_000 + 64 * 1024 and body.closed
