"""recognition_held_by_other: licences for a workload we deliver bought through another
partner's tenant, seen from the licence owner alone (no insight report needed)."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from agent.audit.context import AuditContext
from agent.audit.link import Expectation
from agent.audit.rules import recognition_held_by_other
from agent.recognition.load import load_rulebook
from connectors.records.links import LinkKind
from connectors.records.record import Record
from connectors.records.scope import Source
from tests.recognition.support import licence

from .conftest import (
    CPOR_ON_M365,
    PARTNER_TENANT,
    TENANT,
    all_complete,
    build_snapshot,
    evaluate,
    evaluated,
    file_expectations,
    fingerprints,
    healthy_records,
    key,
    with_status,
)

RULE = recognition_held_by_other.RULE
ELSEWHERE = "9e000000-0000-4000-8000-000000000005"
"""Another partner's tenant."""
DYNAMICS = file_expectations((LinkKind.CPOR, "business_apps"))


@dataclass(frozen=True)
class Case:
    name: str
    records: list[Record]
    expectations: tuple[Expectation, ...] = CPOR_ON_M365
    fires: tuple[str, ...] = ()
    """link ids expected, ``workload|owner``."""


CASES = [
    Case(
        "m365 licences bought through another partner fire on m365",
        licence("O365_BUSINESS_PREMIUM", 140, owner=ELSEWHERE),
        fires=(f"m365|{ELSEWHERE}",),
    ),
    Case(
        "Dynamics licences bought through another partner fire on business_apps",
        licence("DYN365_ENTERPRISE_SALES", 30, owner=ELSEWHERE),
        expectations=DYNAMICS,
        fires=(f"business_apps|{ELSEWHERE}",),
    ),
    Case("licences we sold", licence("O365_BUSINESS_PREMIUM", 140, owner=PARTNER_TENANT)),
    Case(
        "licences the customer bought itself", licence("O365_BUSINESS_PREMIUM", 140, owner=TENANT)
    ),
    Case("licences without an owner", licence("O365_BUSINESS_PREMIUM", 140, owner=None)),
    Case("a free SKU from another partner", licence("FLOW_FREE", 10000, owner=ELSEWHERE)),
    Case(
        "a workload we do not deliver",
        licence("O365_BUSINESS_PREMIUM", 140, owner=ELSEWHERE),
        expectations=(),
    ),
    Case(
        "m365 licences elsewhere while we deliver only Dynamics",
        licence("O365_BUSINESS_PREMIUM", 140, owner=ELSEWHERE),
        expectations=DYNAMICS,
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_fires_only_for_licences_another_partner_sold_for_a_workload_we_deliver(
    case: Case, ctx: AuditContext
) -> None:
    ctx = dataclasses.replace(ctx, expect_pal_on_azure=False)
    records = [*healthy_records(cpor_partner=None), *case.records]
    snapshot = build_snapshot(records, ctx, expectations=case.expectations)

    assert [c.link_id for c in evaluate(RULE, snapshot, ctx)] == list(case.fires)


def test_finding_names_the_owner_the_rule_its_stake_and_the_association_that_would_count(
    ctx: AuditContext,
) -> None:
    records = [
        *healthy_records(cpor_partner=None),
        *licence("O365_BUSINESS_PREMIUM", 140, owner=ELSEWHERE),
    ]

    [cand] = evaluate(RULE, build_snapshot(records, ctx), ctx)

    assert (cand.rule, cand.customer_tenant_id, cand.link_kind) == (RULE.meta.id, TENANT, "csp")
    assert ELSEWHERE in cand.title and "Modern Work" in cand.title
    assert cand.evidence["licence_owner_tenant"] == ELSEWHERE
    assert cand.evidence["source"] == Source.GRAPH_DIRECTORY_SUBSCRIPTIONS.value
    assert cand.evidence["recognition_rule"] == "modern-work-net-customer-adds-smb"
    assert cand.evidence["expected"] == ["cpor"]
    assert cand.evidence["would_count"] == "cpor"
    assert cand.evidence["stake"] == {
        "value": 140,
        "unit": "seats",
        "basis": "paid seats of the largest workload",
    }
    assert cand.value_at_stake == 140.0
    assert cand.remediation is not None
    assert cand.remediation.startswith("140 licences of O365_BUSINESS_PREMIUM were bought")
    assert "file a CPOR claim (OSU)" in cand.remediation
    assert "partner ID 4100002" in cand.remediation


def test_fires_without_insight_reports(ctx: AuditContext) -> None:
    records = [
        *healthy_records(cpor_partner=None),
        *licence("O365_BUSINESS_PREMIUM", 140, owner=ELSEWHERE),
    ]
    statuses = with_status(all_complete(), {key(Source.INSIGHTS): "not_attempted"})
    snapshot = build_snapshot(records, ctx, statuses=statuses)

    assert evaluated(RULE, snapshot)
    assert [c.link_id for c in evaluate(RULE, snapshot, ctx)] == [f"m365|{ELSEWHERE}"]


def test_our_cpor_on_m365_means_the_recognition_is_ours(ctx: AuditContext) -> None:
    records = [*healthy_records(), *licence("O365_BUSINESS_PREMIUM", 140, owner=ELSEWHERE)]

    assert evaluate(RULE, build_snapshot(records, ctx), ctx) == []


def test_not_evaluated_while_the_directory_subscriptions_were_not_read(ctx: AuditContext) -> None:
    failed = {key(Source.GRAPH_DIRECTORY_SUBSCRIPTIONS): "failed"}
    snapshot = build_snapshot(healthy_records(), ctx, statuses=with_status(all_complete(), failed))

    assert RULE.meta.required_sources == (Source.GRAPH_DIRECTORY_SUBSCRIPTIONS,)
    assert not evaluated(RULE, snapshot)


def test_the_partners_rulebook_decides(ctx: AuditContext, tmp_path: Path) -> None:
    override = tmp_path / "fy27.json"
    smb = ["modern-work-net-customer-adds-smb", "modern-work-usage-growth-smb"]
    override.write_text(json.dumps({"disable": [*smb, "modern-work-deployments-smb"]}))
    ctx = dataclasses.replace(ctx, rulebook=load_rulebook(override))
    records = [
        *healthy_records(cpor_partner=None),
        *licence("O365_BUSINESS_PREMIUM", 140, owner=ELSEWHERE),
    ]

    assert evaluate(RULE, build_snapshot(records, ctx), ctx) == []


def test_fingerprint_is_stable_across_two_evaluations(ctx: AuditContext) -> None:
    records = [
        *healthy_records(cpor_partner=None),
        *licence("O365_BUSINESS_PREMIUM", 140, owner=ELSEWHERE),
    ]

    first = fingerprints(evaluate(RULE, build_snapshot(records, ctx), ctx), ctx)

    assert first == fingerprints(evaluate(RULE, build_snapshot(records, ctx), ctx), ctx)
    assert len(first) == 1
