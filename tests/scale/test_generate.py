"""The estate generator: reproducible, valid, and with the mix a large partner has."""

from __future__ import annotations

import json
from pathlib import Path

from standin.scenario import load_scenario
from standin.scenario.generate import (
    GENERATED_CARRIER,
    carrier_tenants,
    generate_scenario,
    write_scenario,
)
from tests.conftest import T0
from tests.scale.support import estate


def test_same_count_and_seed_give_the_same_estate() -> None:
    assert generate_scenario(50, 3) == generate_scenario(50, 3)
    assert generate_scenario(50, 3) != generate_scenario(50, 4)


def test_generated_estate_is_a_valid_scenario_with_the_requested_customers() -> None:
    _document, scenario = estate(300)
    assert len(scenario.customers) == 300
    assert len({c.tenant_id for c in scenario.customers}) == 300
    assert scenario.audit_events


def test_generated_estate_has_a_realistic_mix() -> None:
    _document, scenario = estate(1000)
    customers = scenario.customers
    share = lambda pred: sum(1 for c in customers if pred(c)) / len(customers)  # noqa: E731
    assert 0.8 < share(lambda c: c.relationship == "reseller") < 0.97
    assert 0.0 < share(lambda c: c.relationship is None) < 0.05  # GDAP-only customers
    assert 0.1 < share(lambda c: c.indirect_reseller is not None) < 0.3
    assert 0.3 < share(lambda c: len(c.gdap) >= 2) < 0.5
    assert 0.3 < share(lambda c: bool(c.azure_subscriptions)) < 0.5
    assert share(lambda c: any(i.pal for i in c.identities)) > 0.2
    assert share(lambda c: not c.consented) < 0.03
    sizes = [sum(lic.consumed_units for lic in c.licences) for c in customers]
    assert min(sizes) < 50 < max(sizes)  # small and large tenants (Graph buckets, §3.3)
    assert share(lambda c: bool(c.attribution)) > 0.5
    statuses = {g.status for c in customers for g in c.gdap}
    assert {"active", "expired", "terminated"} <= statuses


def test_carrier_tenants_are_the_customers_the_carrier_exists_in() -> None:
    document, scenario = estate(400)
    expected = {
        c.tenant_id
        for c in scenario.customers
        if any(i.identity == GENERATED_CARRIER for i in c.identities)
    }
    assert set(carrier_tenants(document)) == expected
    assert expected


def test_written_estate_loads_with_its_emulator_settings(tmp_path: Path) -> None:
    path = write_scenario(tmp_path / "estate.json", 20, 1, time_scale=4.0, latency_ms=25.0)
    data = json.loads(path.read_text(encoding="utf-8"))
    assert data["emulator"] == {"time_scale": 4.0, "latency_ms": 25.0}
    scenario = load_scenario(path, now=T0)
    assert len(scenario.customers) == 20
    assert scenario.emulator.time_scale == 4.0
