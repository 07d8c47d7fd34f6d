"""Helpers of the scale tests: a generated estate read by the fake connectors, and an audit
context for its partner."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from agent.audit.context import AuditContext
from agent.store import Store
from agent.sync import Syncer, SyncOutcome
from connectors.base import PARTNER_APP, Connector
from connectors.records.scope import Source
from standin.fake import FakeWorld
from standin.scenario import Scenario, parse_scenario
from standin.scenario.generate import GENERATED_CARRIER, carrier_tenants, generate_scenario
from tests.conftest import T0


def estate(customers: int, seed: int = 7) -> tuple[dict[str, Any], Scenario]:
    document = generate_scenario(customers, seed)
    return document, parse_scenario(document, now=T0)


def carrier_applies(document: dict[str, Any]) -> Any:
    """What ``Agent.applies`` does with a carrier's ``tenants`` list."""
    covered = set(carrier_tenants(document))

    def applies(connector: Connector, tenant: str) -> bool:
        if connector.source is Source.ARM_PAL and connector.identity not in (None, PARTNER_APP):
            return tenant in covered
        return True

    return applies


def fake_sync(
    store: Store, document: dict[str, Any], scenario: Scenario, clock: Any, **kw: Any
) -> SyncOutcome:
    world = FakeWorld(scenario, clock=clock)
    connectors = world.connectors((PARTNER_APP, GENERATED_CARRIER))
    syncer = Syncer(store, connectors, clock=clock, applies=carrier_applies(document), **kw)
    return asyncio.run(syncer.run())


def context_factory(scenario: Scenario) -> Any:
    partner = scenario.partner
    ids = {
        kind: frozenset(loc.partner_id for loc in partner.locations if kind in loc.link_kinds)
        for kind in ("pal", "cpor", "dpor", "csp", "indirect_reseller", "gdap")
    }

    def make(now: datetime, run_id: int) -> AuditContext:
        return AuditContext(
            partner_tenant_id=partner.tenant_id.lower(),
            global_partner_id=partner.global_partner_id,
            location_ids=frozenset(loc.partner_id for loc in partner.locations),
            ids_for_kind=ids,
            now=now,
            run_id=run_id,
            identities=(PARTNER_APP, GENERATED_CARRIER),
        )

    return make
