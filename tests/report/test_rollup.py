"""Who loses what: a customer's stake one figure per unit (never dollars added to users), the
same money or people not counted twice, customers sorted by stake, owners from the file."""

from __future__ import annotations

from typing import Any

from agent.names import Names
from agent.recognition.stake import Unit
from agent.rollup import rollup
from agent.stakes import StakeSum, finding_stakes

A, B, C = (f"c0000000-0000-4000-8000-00000000000{n}" for n in (1, 2, 3))
SUB1, SUB2 = (f"50000001-0000-4000-8000-00000000000{n}" for n in (1, 2))


def finding(tenant: str, status: str, severity: str, **evidence: Any) -> dict[str, Any]:
    return {
        "customer_tenant_id": tenant,
        "customer_name": None,
        "status": status,
        "severity": severity,
        "evidence": evidence,
    }


def test_units_stay_apart_and_nothing_is_counted_twice() -> None:
    total = StakeSum()
    total.add_evidence({"stake": {"acr_usd": 1000.0}, "workload": f"azure:{SUB1}"})
    total.add_evidence({"stake": {"acr_usd": 1000.0}, "workload": f"azure:{SUB1}"})  # same sub
    total.add_evidence({"stake": {"acr_usd": 500.0}, "workload": f"azure:{SUB2}"})
    total.add_evidence({"stake": {"mau": 40, "seats": 50}, "workload": "m365"})
    total.add_evidence({"stake": {"mau": 30, "seats": 55}, "workload": "tenant"})
    total.add_evidence({"stake": {"unit": "seats", "value": None, "basis": "paid seats"}})
    assert total.lines() == ["1,500 USD", "40 users", "55 seats"]
    assert total.value(Unit.MONEY, "USD") == 1500.0
    assert total.sort_key() == (-1500.0, -40.0, -55.0)


def test_a_recognition_stake_keeps_its_unit_and_no_data_stays_no_data() -> None:
    [stake] = finding_stakes({"stake": {"unit": "users", "value": None, "basis": "MAU"}})
    assert stake.value is None and stake.unit is Unit.USERS
    only = StakeSum()
    only.add(stake)
    assert only.lines() == ["no data (users)"]


def test_customers_sorted_by_stake_with_their_owner_and_open_findings() -> None:
    findings = [
        finding(A, "open", "high", stake={"mau": 900}),
        finding(B, "open", "critical", stake={"acr_usd": 10.0}, workload=f"azure:{SUB1}"),
        finding(B, "acknowledged", "high", stake={"acr_usd": 99.0}, workload=f"azure:{SUB2}"),
        finding(C, "pending", "medium"),
    ]
    names = Names({A: "Alpine", B: "Birch", C: "Cobalt"})
    rows = rollup(findings, [], [], owners={B: "team-east"}, names=names)
    assert [r.name for r in rows] == ["Birch", "Alpine", "Cobalt"], "money first, then users"
    birch = rows[0]
    assert birch.owner == "team-east" and birch.worst == "critical"
    assert birch.looked_after == 1 and dict(birch.open) == {"critical": 1}
    assert birch.stake.lines() == ["109 USD"], "an acknowledged finding still has its stake"
    assert rows[2].stake.lines() == [], "a pending finding is not yet at stake"
    assert rows[1].as_dict()["stake"] == [{"unit": "users", "currency": None, "value": 900.0}]


def test_names_replace_guids_and_shorten_the_unknown() -> None:
    names = Names({A: "Alpine"}, {SUB1: "alpine-prod"})
    text = f"PAL on azure:{SUB1} for Alpine in tenant {A}, app 9e000000-0000-4000-8000-000000000005"
    assert names.text(text, drop_customer="Alpine") == (
        "PAL on Azure subscription alpine-prod in tenant Alpine, app 9e000000…"
    )
    assert names.workload(f"azure:{SUB2}") == "50000001…"
    assert names.customer(B) == "c0000000…" and names.customer(B, "Birch") == "Birch"
