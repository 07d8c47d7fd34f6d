"""One contract, two implementations: the fake connectors reading a scenario and the live
connectors reading an in-process emulator of the same scenario yield the same outcome for every
source and scope (the same set of records, or the same error class), faults included.

The live side is the production stack end to end: MSAL (``agent.auth``) against the
emulator's login endpoints, the shared requester with its retries, the real paginators.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from connectors.base import PARTNER_APP, Connector
from connectors.destinations import DownloadGuard
from connectors.endpoints import CloudEndpoints
from connectors.errors import ConnectorError
from connectors.http.client import make_client
from connectors.live import live_connectors
from connectors.records.record import Record
from connectors.records.scope import PARTNER_SCOPE, ScopeKind, Source
from connectors.retry_after import RetryPolicy
from standin.emulator.hints import source_hints
from standin.fake import FakeWorld
from standin.scenario import Scenario, bundled_path, load_scenario

pytestmark = pytest.mark.anyio

RETRY = RetryPolicy(attempts=3, throttled_attempts=5, base_delay=0.01, max_delay=0.05)
"""The fake's attempt counts, with waits short enough for a test."""

Outcome = tuple[str, Any]

AUDIT_LOOKBACK_DAYS = 90
"""Both sides read the audit records of the same window (Partner Center keeps 90 days)."""


def _identities(scenario: Scenario) -> dict[str, str]:
    names = {PARTNER_APP: scenario.partner.app.client_id.lower()}
    names.update({c.name: c.client_id.lower() for c in scenario.partner.carriers})
    return names


@pytest.fixture
async def live(
    emulator: Any, tokens: Any, scenario: Scenario, tmp_path: Path
) -> AsyncIterator[dict[tuple[Source, str | None], Connector]]:
    # The emulator's source hints: its faults are attributed by source, as the fake's are.
    async with make_client(
        ca_bundle=emulator.ca_path, timeout=10, wrap=source_hints(emulator.base_url)
    ) as client:
        made = live_connectors(
            CloudEndpoints.single_origin(emulator.base_url),
            tokens,
            client,
            partner_tenant_id=scenario.partner.tenant_id,
            identities=_identities(scenario),
            app_user=True,
            audit_lookback_days=AUDIT_LOOKBACK_DAYS,
            retry=RETRY,
            downloads=DownloadGuard(allow_origins=[emulator.base_url]),
        )
        yield {(c.source, c.identity): c for c in made}


@pytest.fixture(scope="module")
def fake(scenario: Scenario) -> dict[tuple[Source, str | None], Connector]:
    world = FakeWorld(scenario, retry=RETRY, audit_lookback_days=AUDIT_LOOKBACK_DAYS)
    return {(c.source, c.identity): c for c in world.connectors(tuple(_identities(scenario)))}


async def outcome(connector: Connector, scope: str | None) -> Outcome:
    try:
        records: list[Record] = [record async for record in connector.fetch(scope)]
    except ConnectorError as exc:
        return ("error", type(exc).__name__)
    return ("records", frozenset(records))


def _pairs() -> list[tuple[Source, str | None]]:
    scenario = load_scenario(bundled_path("demo"))
    pairs: list[tuple[Source, str | None]] = []
    for source in Source:
        if source is Source.ARM_PAL:
            pairs.extend((source, name) for name in _identities(scenario))
        else:
            pairs.append((source, None))
    return pairs


@pytest.mark.parametrize(
    ("source", "identity"), _pairs(), ids=lambda v: str(v) if v is not None else "-"
)
async def test_fake_and_live_agree(
    source: Source,
    identity: str | None,
    scenario: Scenario,
    fake: dict[tuple[Source, str | None], Connector],
    live: dict[tuple[Source, str | None], Connector],
) -> None:
    fake_connector, live_connector = fake[(source, identity)], live[(source, identity)]
    assert fake_connector.kinds == live_connector.kinds
    assert fake_connector.scope_kind == live_connector.scope_kind
    scopes: list[str | None] = (
        [None]
        if fake_connector.scope_kind is ScopeKind.PARTNER
        else [c.tenant_id.lower() for c in scenario.customers]
    )
    differences: dict[str, tuple[Outcome, Outcome]] = {}
    for scope in scopes:
        expected = await outcome(fake_connector, scope)
        got = await outcome(live_connector, scope)
        if expected != got:
            differences[scope or PARTNER_SCOPE] = (expected, got)
    assert differences == {}
