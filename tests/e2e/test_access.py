"""Consent and access, planned then applied, end to end through the real connectors and the
emulator: a world with an unconsented customer, a subscription the partner manages but its app
cannot read, and an expiring secret. The plan lists the writes; applying them and syncing again
makes those reads succeed and resolves the findings; the next plan is empty. GDAP roles that
cannot make a write block it in the plan; the apply is refused unless enabled."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from agent.access import apply as access_apply
from agent.access import plan as access_plan
from agent.access.gdap_roles import (
    CLOUD_APPLICATION_ADMINISTRATOR,
    PRIVILEGED_ROLE_ADMINISTRATOR,
)
from agent.access.writes import AZURE_ROLE, CONSENT, GRAPH_ROLES
from agent.app import Agent
from agent.config import ConfigError, load_settings
from connectors.records.azure import AzureSubscription
from tests.conftest import T0, Clock
from tests.worlds import C1, C2, SUB1, SUB2, customer, world_dict

SUB3 = "53000000-0000-4000-8000-000000000003"
ROLES = ("Application.Read.All", "Organization.Read.All", "Reports.Read.All")


def _gdap(tenant: str, *roles: str) -> list[dict[str, Any]]:
    return [
        {
            "id": f"{tenant}-rel",
            "status": "active",
            "ends": "+400d",
            "roles": list(roles),
            "access_assignments": [
                {
                    "id": "aa-1",
                    "group_id": "9a000000-0000-4000-8000-000000000001",
                    "roles": list(roles),
                }
            ],
        }
    ]


def _world(folder: Path, *gdap_roles: str) -> None:
    roles = gdap_roles or (CLOUD_APPLICATION_ADMINISTRATOR, PRIVILEGED_ROLE_ADMINISTRATOR)
    managed = customer(C1, SUB1, gdap=_gdap(C1, *roles))
    # A second subscription the partner sells through CSP, on which its app holds no role.
    managed["azure_subscriptions"].append({"subscription_id": SUB3, "acr_usd": 300.0})
    unconsented = customer(
        C2,
        SUB2,
        consented=False,
        gdap=_gdap(C2, *roles),
        identities=[{"identity": "partner-app", "roles": []}],
    )
    world = world_dict(managed, unconsented)
    world["now"] = T0.isoformat()
    world["partner"]["app"]["credential_expires"] = "+20d"
    (folder / "world.json").write_text(json.dumps(world))


def _config(folder: Path, *, enabled: bool = True) -> Path:
    config = folder / "partnerlink.toml"
    config.write_text(
        '[partner]\ntenant_id = "7a11ce00-0000-4000-8000-000000000001"\n'
        'global_partner_id = "4100001"\n'
        '[[partner.locations]]\npartner_id = "4100002"\nlink_kinds = ["pal", "cpor"]\n'
        '[sources]\nmode = "emulator"\nscenario = "world.json"\napp_user = true\n'
        f'[store]\ndata_dir = "."\n[repair]\naccess_enabled = {str(enabled).lower()}\n'
        "[audit]\nresolve_after_runs = 1\n"
    )
    return config


def _open(agent: Agent) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = {}
    for f in agent.store.findings(statuses=["open"]):
        found.setdefault(f.rule, []).append(f)
    return found


def _readable(agent: Agent, tenant: str) -> set[str]:
    return {
        o.record.subscription_id
        for o in agent.store.current(customers=[tenant], kinds=[AzureSubscription.KIND])
        if isinstance(o.record, AzureSubscription)
    }


def test_the_plan_lists_the_writes_and_applying_them_makes_every_customer_readable(
    tmp_path: Path,
) -> None:
    _world(tmp_path)
    with Agent(load_settings(_config(tmp_path)), clock=Clock(T0)) as agent:
        first, _ = agent.cycle()
        assert {r.customer_tenant_id for r in first.failed} == {C2}
        before = _open(agent)
        # One partner-level finding per reader and cause, each listing the customers it covers.
        blind = before["cannot_verify"]
        assert blind and all(f.customer_tenant_id is None for f in blind)
        assert {
            failure["customer"] for f in blind for failure in json.loads(f.evidence)["failures"]
        } == {C2}
        assert "credential_expiring" in before, "the expiring secret is its own finding"
        assert _readable(agent, C1) == {SUB1}

        planned = access_plan.plan(agent)
        assert [(w.kind, w.tenant, w.roles, w.subscription) for w in planned.writes] == [
            (AZURE_ROLE, C1, (), SUB3),
            (CONSENT, C2, (), None),
            (GRAPH_ROLES, C2, ROLES, None),
            (AZURE_ROLE, C2, (), SUB2),
        ]
        assert all(w.blocked is None for w in planned.writes)
        assert (
            planned.writes[1]
            .describe()
            .startswith(f"POST /v1/customers/{C2}/applicationconsents: consent app ")
        )

        results = access_apply.apply(agent, planned)
        assert [outcome for _, outcome in results] == [
            "assigned",
            "created",
            "; ".join(f"{role}: granted" for role in ROLES),
            "assigned",
        ]

        again, audited = agent.cycle(full=True)  # what `partnerlink sync --full` does
        assert audited is not None
        assert again.failed == [], [r.error for r in again.failed]
        after = _open(agent)
        assert "cannot_verify" not in after, "the next sync verifies: the reads succeed"
        assert _readable(agent, C1) == {SUB1, SUB3}
        assert _readable(agent, C2) == {SUB2}
        assert access_plan.plan(agent).writes == [], "nothing left to write"

        # Applied again, nothing is written twice.
        results = access_apply.apply(agent, planned)
        assert [outcome for _, outcome in results] == [
            "already assigned",
            "already there",
            "; ".join(f"{role}: already held" for role in ROLES),
            "already assigned",
        ]


def test_gdap_roles_that_cannot_make_a_write_block_it(tmp_path: Path) -> None:
    """Cloud Application Administrator may consent, but only Privileged Role Administrator may
    grant Microsoft Graph app roles: the plan says so, and the apply skips that write."""
    _world(tmp_path, CLOUD_APPLICATION_ADMINISTRATOR)
    with Agent(load_settings(_config(tmp_path)), clock=Clock(T0)) as agent:
        agent.cycle()
        planned = access_plan.plan(agent)
        blocked = {(w.kind, w.tenant): w.blocked for w in planned.writes}
        assert blocked[(CONSENT, C2)] is None
        assert "Privileged Role Administrator" in (blocked[(GRAPH_ROLES, C2)] or "")

        results = {(w.kind, w.tenant): o for w, o in access_apply.apply(agent, planned)}
        assert results[(CONSENT, C2)] == "created"
        assert results[(GRAPH_ROLES, C2)].startswith("skipped: no active GDAP access assignment")


def test_the_apply_is_refused_unless_enabled_and_the_plan_needs_a_sync(tmp_path: Path) -> None:
    _world(tmp_path)
    with Agent(load_settings(_config(tmp_path, enabled=False)), clock=Clock(T0)) as agent:
        with pytest.raises(access_plan.NothingToPlan, match="partnerlink sync"):
            access_plan.plan(agent)
        agent.cycle()
        planned = access_plan.plan(agent)
        assert planned.writes, "planning (the dry run) works without the opt-in"
        with pytest.raises(ConfigError, match="access_enabled"):
            access_apply.apply(agent, planned)


def test_a_write_the_gdap_roles_cannot_make_is_refused_and_stops_that_customer(
    tmp_path: Path,
) -> None:
    """Sent anyway (the roles on record may be stale), the Graph app role grant is refused as
    Microsoft refuses it, and the customer's later writes are not tried."""
    _world(tmp_path, CLOUD_APPLICATION_ADMINISTRATOR)
    with Agent(load_settings(_config(tmp_path)), clock=Clock(T0)) as agent:
        agent.cycle()
        planned = access_plan.plan(agent)
        planned.writes = [dataclasses.replace(w, blocked=None) for w in planned.writes]

        results = {(w.kind, w.tenant): o for w, o in access_apply.apply(agent, planned)}

    assert results[(CONSENT, C2)] == "created"
    assert results[(GRAPH_ROLES, C2)].startswith("failed: ")
    assert "HTTP 403" in results[(GRAPH_ROLES, C2)]
    assert (
        results[(AZURE_ROLE, C2)]
        == f"skipped: an earlier write for {planned.writes[1].customer} failed"
    )
    assert results[(AZURE_ROLE, C1)] == "assigned", "other customers go on"


def test_a_consented_app_missing_a_graph_app_role_gets_only_that_role(tmp_path: Path) -> None:
    """The app is in every tenant but was never granted Reports.Read.All: the reads of usage
    are refused (403); the plan grants that one role where it was refused, and nothing else."""
    _world(tmp_path)
    world = json.loads((tmp_path / "world.json").read_text())
    world["customers"][1]["consented"] = True
    world["partner"]["app"]["roles"] = [
        "Directory.Read.All",
        "DelegatedAdminRelationship.Read.All",
        "Organization.Read.All",
        "Application.Read.All",
    ]
    (tmp_path / "world.json").write_text(json.dumps(world))
    with Agent(load_settings(_config(tmp_path)), clock=Clock(T0)) as agent:
        first, _ = agent.cycle()
        assert {r.source for r in first.failed} == {"graph.usage_reports"}

        planned = access_plan.plan(agent)
        graph = [(w.tenant, w.roles) for w in planned.writes if w.kind == GRAPH_ROLES]
        assert graph == [(C1, ("Reports.Read.All",)), (C2, ("Reports.Read.All",))]
        assert not [w for w in planned.writes if w.kind == CONSENT]

        access_apply.apply(agent, planned)
        again, _ = agent.cycle()
        assert again.failed == []
