"""Scenario files: the shipped schema, the bundled worlds and their patch, errors that name the
file and the JSON path, relative times; and the managed-customers CSV that goes with them."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from agent.audit.link import Expectation
from agent.expectations import ExpectationsError, load_managed_customers
from connectors.records.links import LinkKind
from standin.scenario import (
    ScenarioError,
    bundled_path,
    generated_schema,
    load_scenario,
    parse_scenario,
    scenario_schema,
)

NOW = datetime(2026, 11, 15, 2, 0, tzinfo=UTC)
WORLDS = bundled_path("demo").parent
C1 = "c0000000-0000-4000-8000-000000000001"
C2 = "c0000000-0000-4000-8000-000000000002"
C7 = "c0000000-0000-4000-8000-000000000007"
C8 = "c0000000-0000-4000-8000-000000000008"
C9 = "c0000000-0000-4000-8000-000000000009"
REGENERATE = (
    "standin/scenario/scenario.schema.json is out of date with standin/scenario/model.py; "
    'regenerate it with:\n  python -c "import json; from standin.scenario import '
    'generated_schema; print(json.dumps(generated_schema(), indent=2))" '
    "> standin/scenario/scenario.schema.json"
)


def minimal() -> dict[str, Any]:
    """The smallest valid world: a partner with its app, and one customer."""
    return {
        "partner": {
            "tenant_id": "7a11ce00-0000-4000-8000-000000000001",
            "name": "Test Partner",
            "global_partner_id": "4100001",
            "app": {
                "client_id": "a9900000-0000-4000-8000-0000000000a1",
                "client_secret": "test-secret-0001",
            },
            "carriers": [
                {
                    "name": "pal-carrier-ops",
                    "client_id": "a9900000-0000-4000-8000-0000000000c1",
                    "client_secret": "test-secret-0002",
                }
            ],
        },
        "customers": [{"tenant_id": C1, "name": "Alpine Dairy Co-op"}],
    }


def write_json(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return path


# ------------------------------------------------------------------------- schema and worlds


def test_shipped_schema_equals_the_schema_generated_from_the_model() -> None:
    assert scenario_schema() == generated_schema(), REGENERATE


def test_shipped_schema_file_is_the_generated_schema_as_written_by_the_hint() -> None:
    text = (WORLDS.parent / "scenario.schema.json").read_text(encoding="utf-8")

    assert json.loads(text) == generated_schema(), REGENERATE


@pytest.mark.parametrize("name", ["demo", "demo-after"])
def test_bundled_world_loads(name: str) -> None:
    world = load_scenario(bundled_path(name), now=NOW)

    assert world.name == name
    assert len(world.customers) == 13
    assert world.partner.global_partner_id == "4100001"


def test_unknown_bundled_world_is_an_error() -> None:
    with pytest.raises(ScenarioError, match="no bundled scenario named 'atlantis'"):
        bundled_path("atlantis")


def test_demo_after_differs_from_demo_exactly_where_its_patch_says() -> None:
    before = load_scenario(bundled_path("demo"), now=NOW)
    after = load_scenario(bundled_path("demo-after"), now=NOW)

    changed = {
        c.tenant_id for c, d in zip(before.customers, after.customers, strict=True) if c != d
    }
    assert changed == {C7, C8, C9}
    assert after.partner == before.partner
    assert after.faults == before.faults

    # C7: the PAL carrier's identity was deleted; the app keeps its PAL.
    c7 = after.customer(C7)
    assert c7 is not None
    assert [i.identity for i in c7.identities] == ["partner-app"]
    assert "pal-carrier-ops" in [i.identity for i in before.customer(C7).identities]  # type: ignore[union-attr]
    # C8: the app's PAL was removed, and another partner took the Microsoft 365 seat (DPOR).
    c8 = after.customer(C8)
    assert c8 is not None
    assert [i.pal for i in c8.identities] == [None]
    assert {(a.workload, a.type, a.partner_id) for a in c8.attribution} == {
        ("azure:50000008-0000-4000-8000-000000000001", "PAL", "4100002"),
        ("m365", "DPOR", "5200001"),
    }
    # C9: the GDAP relationship was terminated three days ago.
    c9 = after.customer(C9)
    assert c9 is not None
    assert [(g.status, g.ends) for g in c9.gdap] == [("terminated", NOW - timedelta(days=3))]
    # The audit feed gained the termination event.
    assert [e.id for e in after.audit_events] == ["ae-0001", "ae-0002", "ae-0003"]
    assert [e.id for e in before.audit_events] == ["ae-0001", "ae-0002"]


# ------------------------------------------------------------------------- patches


def test_patch_with_a_null_customer_removes_it(tmp_path: Path) -> None:
    world = minimal()
    world["customers"].append({"tenant_id": C2, "name": "Birch Logistics"})
    write_json(tmp_path / "base.json", world)
    patch = write_json(
        tmp_path / "after.json", {"base": "base.json", "patch": {"customers": {C1: None}}}
    )

    after = load_scenario(patch, now=NOW)

    assert [c.tenant_id for c in after.customers] == [C2]


def test_patch_merges_into_a_customer_by_tenant_id_and_adds_new_ones(tmp_path: Path) -> None:
    write_json(tmp_path / "base.json", minimal())
    new = "c0000000-0000-4000-8000-00000000000a"
    patch = write_json(
        tmp_path / "after.json",
        {
            "base": "base.json",
            "patch": {
                "name": "after",
                "customers": {
                    C1.upper(): {"domain": "alpine.example"},
                    new: {"name": "Kelp Farms"},
                },
            },
        },
    )

    after = load_scenario(patch, now=NOW)

    assert after.name == "after"
    assert [(c.tenant_id, c.name, c.domain) for c in after.customers] == [
        (C1, "Alpine Dairy Co-op", "alpine.example"),
        (new, "Kelp Farms", ""),
    ]


def test_patch_can_build_on_a_bundled_world_and_remove_a_customer(tmp_path: Path) -> None:
    patch = write_json(
        tmp_path / "smaller.json",
        {"base": str(bundled_path("demo")), "patch": {"customers": {C9: None}}},
    )

    world = load_scenario(patch, now=NOW)

    assert len(world.customers) == 12
    assert world.customer(C9) is None


def test_patch_file_with_keys_besides_base_and_patch_is_an_error(tmp_path: Path) -> None:
    write_json(tmp_path / "base.json", minimal())
    patch = write_json(tmp_path / "after.json", {"base": "base.json", "patch": {}, "customers": []})

    with pytest.raises(ScenarioError, match=r"a patch file has only 'base' and 'patch'"):
        load_scenario(patch, now=NOW)


# ------------------------------------------------------------------------- errors


def _with(change: Any) -> dict[str, Any]:
    world = copy.deepcopy(minimal())
    change(world)
    return world


@pytest.mark.parametrize(
    ("world", "where", "expected"),
    [
        (
            _with(lambda w: w["customers"][0].update(tenant_id="contoso")),
            "customers/0/tenant_id",
            "'contoso' does not match",
        ),
        (
            _with(lambda w: w["customers"][0].update(colour="teal")),
            "customers/0",
            "'colour' was unexpected",
        ),
        (
            _with(lambda w: w.update(faults=[{"source": "arm.pal", "kind": "status"}])),
            "faults/0",
            "a fault of kind 'status' needs a status",
        ),
        (
            _with(lambda w: w["customers"][0].update(identities=[{"identity": "ops"}])),
            "customers/0/identities/0/identity",
            "'ops' is neither 'partner-app' nor a carrier in partner.carriers",
        ),
        (
            _with(lambda w: w["customers"].append(dict(w["customers"][0]))),
            "customers/1/tenant_id",
            "appears twice",
        ),
        (
            _with(
                lambda w: w["customers"][0].update(
                    gdap=[{"id": "rel-1", "ends": "2027-01-31T00:00:00"}]
                )
            ),
            "customers/0/gdap/0/ends",
            "date-times need a zone",
        ),
        (
            _with(lambda w: w["partner"].update(global_partner_id="12ab")),
            "partner/global_partner_id",
            "'12ab' does not match",
        ),
    ],
)
def test_invalid_scenario_names_the_file_and_the_json_path(
    tmp_path: Path, world: dict[str, Any], where: str, expected: str
) -> None:
    path = write_json(tmp_path / "world.json", world)

    with pytest.raises(ScenarioError) as caught:
        load_scenario(path, now=NOW)

    message = str(caught.value)
    assert message.startswith(f"{path}: {where}: "), message
    assert expected in message
    assert "Value error" not in message


def test_identity_error_in_a_patched_world_names_the_patch_file(tmp_path: Path) -> None:
    write_json(tmp_path / "base.json", minimal())
    patch = write_json(
        tmp_path / "after.json",
        {
            "base": "base.json",
            "patch": {
                "customers": {
                    C1: {"identities": [{"identity": "partner-app"}, {"identity": "ghost"}]}
                }
            },
        },
    )

    with pytest.raises(ScenarioError) as caught:
        load_scenario(patch, now=NOW)

    assert str(caught.value).startswith(f"{patch}: customers/0/identities/1/identity: 'ghost'")


def test_invalid_json_names_the_file_and_the_line(tmp_path: Path) -> None:
    path = tmp_path / "world.json"
    path.write_text('{\n  "name": "x",\n  "partner": \n}\n', encoding="utf-8")

    with pytest.raises(ScenarioError, match=r"world\.json: not valid JSON \(line 4"):
        load_scenario(path, now=NOW)


def test_missing_scenario_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match=r"nowhere\.json: no such scenario file"):
        load_scenario(tmp_path / "nowhere.json", now=NOW)


# ------------------------------------------------------------------------- times


def test_relative_times_resolve_against_the_given_now() -> None:
    world = minimal()
    world["customers"][0]["gdap"] = [{"id": "rel-1", "activated": "-400d", "ends": "+20d"}]
    world["audit_events"] = [
        {"id": "ae-1", "operation_type": "add_customer", "date": "-6h"},
        {"id": "ae-2", "operation_type": "add_customer", "date": "+30m"},
    ]
    world["partner"]["app"]["credential_expires"] = "2027-01-31T00:00:00Z"

    parsed = parse_scenario(world, now=NOW)

    [rel] = parsed.customers[0].gdap
    assert rel.activated == NOW - timedelta(days=400)
    assert rel.ends == NOW + timedelta(days=20)
    assert [e.date for e in parsed.audit_events] == [
        NOW - timedelta(hours=6),
        NOW + timedelta(minutes=30),
    ]
    assert parsed.partner.app.credential_expires == datetime(2027, 1, 31, tzinfo=UTC)


def test_a_now_in_the_document_is_the_clock_of_its_relative_times() -> None:
    world = minimal()
    world["now"] = "2027-03-01T00:00:00Z"
    world["customers"][0]["gdap"] = [{"id": "rel-1", "ends": "+20d"}]

    parsed = parse_scenario(world, now=NOW)

    assert parsed.customers[0].gdap[0].ends == datetime(2027, 3, 21, tzinfo=UTC)


def test_same_world_loaded_twice_with_one_clock_is_identical() -> None:
    assert load_scenario(bundled_path("demo"), now=NOW) == load_scenario(
        bundled_path("demo"), now=NOW
    )


# ------------------------------------------------------------------------- managed customers


def test_bundled_managed_customers_file_loads() -> None:
    customers = load_managed_customers(WORLDS / "demo-managed-customers.csv")

    assert len(customers) == 8
    alpine = [c for c in customers if c.tenant_id == C1]
    assert [c.workloads for c in alpine] == [("m365",), ("azure",)]
    assert alpine[1].expected == (LinkKind.PAL, LinkKind.GDAP)
    assert alpine[0].tags == ("dach",)
    assert alpine[0].owner == "account-team-east"
    expectations = {e for c in alpine for e in c.expectations()}
    assert expectations == {
        Expectation(C1, "m365", LinkKind.CPOR, "file"),
        Expectation(C1, "azure", LinkKind.PAL, "file"),
        Expectation(C1, "tenant", LinkKind.GDAP, "file"),
    }


def test_every_tenant_of_the_managed_customers_file_is_in_the_demo_world() -> None:
    world = load_scenario(bundled_path("demo"), now=NOW)
    tenants = {c.tenant_id for c in load_managed_customers(WORLDS / "demo-managed-customers.csv")}

    assert tenants <= {c.tenant_id for c in world.customers}


def test_pal_is_expected_only_on_azure_workloads(tmp_path: Path) -> None:
    path = tmp_path / "managed.csv"
    path.write_text(
        "customer_tenant_id,name,workloads,expected_links,tags,owner\n"
        f"{C1},Alpine,m365;azure,pal;cpor,,\n",
        encoding="utf-8",
    )

    [customer] = load_managed_customers(path)

    assert {(e.workload, e.kind) for e in customer.expectations()} == {
        ("azure", LinkKind.PAL),
        ("azure", LinkKind.CPOR),
        ("m365", LinkKind.CPOR),
    }


def test_byte_order_mark_and_upper_case_are_accepted(tmp_path: Path) -> None:
    path = tmp_path / "managed.csv"
    path.write_text(
        f"\ufeffcustomer_tenant_id,workloads,expected_links\n{C1.upper()},AZURE,PAL\n",
        encoding="utf-8",
    )

    [customer] = load_managed_customers(path)

    assert (customer.tenant_id, customer.workloads, customer.expected) == (
        C1,
        ("azure",),
        (LinkKind.PAL,),
    )


HEADER = "customer_tenant_id,name,workloads,expected_links,tags,owner\n"
GOOD = f"{C1},Alpine,m365,cpor,,\n"


@pytest.mark.parametrize(
    ("rows", "line", "expected"),
    [
        ("not-a-guid,Alpine,m365,cpor,,\n", 3, "customer_tenant_id: expected a GUID"),
        (f"{C2},Birch,crm,cpor,,\n", 3, "workloads: 'crm' is not one of"),
        (f"{C2},Birch,m365,cpor;por,,\n", 3, "expected_links: 'por' is not one of"),
        (f"{C2},Birch,azure:not-a-sub,pal,,\n", 3, "workloads: 'azure:not-a-sub'"),
        (f"{GOOD}\n,Empty,m365,cpor,,\n", 5, "customer_tenant_id: expected a GUID"),
    ],
)
def test_bad_managed_customers_row_is_rejected_with_file_and_line(
    tmp_path: Path, rows: str, line: int, expected: str
) -> None:
    path = tmp_path / "managed.csv"
    path.write_text(HEADER + GOOD + rows, encoding="utf-8")

    with pytest.raises(ExpectationsError) as caught:
        load_managed_customers(path)

    assert str(caught.value).startswith(f"{path}:{line}: {expected}"), str(caught.value)


def test_managed_customers_file_without_a_required_column_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "managed.csv"
    path.write_text(f"customer_tenant_id,name,workloads\n{C1},Alpine,m365\n", encoding="utf-8")

    with pytest.raises(ExpectationsError) as caught:
        load_managed_customers(path)

    assert str(caught.value) == f"{path}:1: expected_links: missing column(s) in the header"


def test_missing_managed_customers_file_is_named(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.csv"

    with pytest.raises(ExpectationsError, match=r"nowhere\.csv: cannot be read"):
        load_managed_customers(path)
