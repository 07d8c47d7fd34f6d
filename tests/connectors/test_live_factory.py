"""``live_connectors`` builds what ``FakeWorld.connectors()`` builds, attribute for attribute."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from connectors.base import Connector
from connectors.http.connector import LiveConnector
from connectors.insights.api import InsightsApi
from connectors.insights.folder import InsightsFolder
from connectors.live import live_connectors
from connectors.records.scope import Source
from standin.fake import FakeWorld
from standin.scenario import bundled_path, load_scenario
from tests.connectors.support import ENDPOINTS, PARTNER, CountingTokens

pytestmark = pytest.mark.anyio

IDENTITIES = {
    "partner-app": "a9900000-0000-4000-8000-0000000000a1",
    "pal-carrier-ops": "a9900000-0000-4000-8000-0000000000c1",
}


def shape(connector: Connector) -> tuple[object, ...]:
    return (
        connector.source,
        connector.scope_kind,
        connector.kinds,
        connector.identity,
        getattr(connector, "requires", None),
    )


async def test_live_connectors_mirror_the_fake_world(
    client_for: Callable[..., httpx.AsyncClient], tmp_path: Path
) -> None:
    client = client_for(lambda r: httpx.Response(404))
    live = live_connectors(
        ENDPOINTS,
        CountingTokens(),
        client,
        partner_tenant_id=PARTNER,
        identities=IDENTITIES,
        app_user=True,
    )
    fake = FakeWorld(load_scenario(bundled_path("demo"))).connectors(tuple(IDENTITIES))
    assert [shape(c) for c in live] == [shape(c) for c in fake]
    assert all(isinstance(c, Connector) for c in live)
    shared = {id(c.requester) for c in live if isinstance(c, LiveConnector)}
    assert len(shared) == 1  # one requester: one set of throttling scopes (guarantee retry-after)
    assert isinstance(next(c for c in live if c.source is Source.INSIGHTS), InsightsApi)


async def test_without_app_user_the_delegated_sources_are_left_out(
    client_for: Callable[..., httpx.AsyncClient], tmp_path: Path
) -> None:
    client = client_for(lambda r: httpx.Response(404))
    live = live_connectors(
        ENDPOINTS,
        CountingTokens(),
        client,
        partner_tenant_id=PARTNER,
        identities={"partner-app": IDENTITIES["partner-app"]},
        app_user=False,
    )
    sources = [c.source for c in live]
    assert Source.PC_USAGE not in sources
    assert Source.INSIGHTS not in sources
    with_folder = live_connectors(
        ENDPOINTS,
        CountingTokens(),
        client,
        partner_tenant_id=PARTNER,
        identities=IDENTITIES,
        app_user=False,
        insights_folder=tmp_path,
        disabled=["graph.usage_reports"],
    )
    assert isinstance(next(c for c in with_folder if c.source is Source.INSIGHTS), InsightsFolder)
    assert Source.GRAPH_USAGE not in [c.source for c in with_folder]
    assert [c.identity for c in with_folder if c.source is Source.ARM_PAL] == list(IDENTITIES)


async def test_the_partner_app_must_be_among_the_identities(
    client_for: Callable[..., httpx.AsyncClient],
) -> None:
    with pytest.raises(ValueError, match="partner-app"):
        live_connectors(
            ENDPOINTS,
            CountingTokens(),
            client_for(lambda r: httpx.Response(404)),
            partner_tenant_id=PARTNER,
            identities={"x": "y"},
            app_user=False,
        )
