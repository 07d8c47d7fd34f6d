"""The contract of test_fake_vs_live on a world whose access is broken in every way the
readiness check names: a tenant that granted fewer Graph roles, one that refuses the app with
AADSTS700016, and a deleted carrier. The fake refuses the same reads the emulator refuses."""

from __future__ import annotations

import pytest

from connectors.base import Connector
from connectors.records.scope import PARTNER_SCOPE, ScopeKind, Source
from standin.scenario import Scenario, parse_scenario
from tests.contract.test_fake_vs_live import Outcome, fake, live, outcome
from tests.emulator.support import world

pytestmark = pytest.mark.anyio

__all__ = ["fake", "live"]  # the fixtures of the contract, on this module's scenario


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    data = world()
    data["customers"] = data["customers"][:2]  # C3 is no Partner Center customer: not this test
    data["customers"][0]["app_roles"] = ["Organization.Read.All", "Application.Read.All"]
    data["customers"][1]["consent_refusal"] = "AADSTS700016"
    data["partner"]["carriers"][0]["status"] = "deleted"
    return parse_scenario(data)


async def test_fake_and_live_refuse_the_same_reads(
    scenario: Scenario,
    fake: dict[tuple[Source, str | None], Connector],
    live: dict[tuple[Source, str | None], Connector],
) -> None:
    differences: dict[str, tuple[Outcome, Outcome]] = {}
    refused = 0
    for key, fake_connector in fake.items():
        live_connector = live[key]
        scopes: list[str | None] = (
            [None]
            if fake_connector.scope_kind is ScopeKind.PARTNER
            else [c.tenant_id.lower() for c in scenario.customers]
        )
        for scope in scopes:
            expected = await outcome(fake_connector, scope)
            got = await outcome(live_connector, scope)
            refused += expected[0] == "error"
            if expected != got:
                differences[f"{key[0]}/{key[1]}@{scope or PARTNER_SCOPE}"] = (expected, got)
    assert differences == {}
    assert refused >= 5, "the world refuses reads: graph usage in C1, C2 everywhere, the carrier"
