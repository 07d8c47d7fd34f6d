"""link_missing: an expected link of ours that has never been observed, and only where a
complete read could have shown it."""

from __future__ import annotations

from datetime import timedelta

from agent.audit.context import AuditContext
from agent.audit.model import Verdict
from agent.audit.rules import link_disappeared, link_missing, recognition_held_by_other
from connectors.records.attribution import Attribution
from connectors.records.gdap import GdapStatus
from connectors.records.links import LinkKind
from connectors.records.pal import PalLink
from connectors.records.scope import Source
from tests.recognition.support import licence

from .conftest import (
    APP,
    CARRIER,
    CPOR_ON_M365,
    HQ,
    OTHER,
    SUB,
    TENANT,
    TRAINING,
    Runs,
    all_complete,
    build_snapshot,
    evaluate,
    file_expectations,
    fingerprints,
    gdap,
    healthy_records,
    key,
    make_context,
    with_status,
)

RULE = link_missing.RULE


def _without(records: list, cls: type) -> list:
    return [r for r in records if not isinstance(r, cls)]


def _not_linked(identity: str = APP) -> PalLink:
    """ARM answered ManagementPartnerNotFound for the identity: an authenticated "no PAL"."""
    return PalLink(
        customer_tenant_id=TENANT, identity=identity, partner_id=None, subscriptions=(SUB,)
    )


def test_healthy_customer_has_no_missing_link(ctx: AuditContext) -> None:
    snapshot = build_snapshot(healthy_records(), ctx)

    assert evaluate(RULE, snapshot, ctx) == []


def test_missing_pal_on_a_reachable_subscription_fires_with_the_default_expectation(
    ctx: AuditContext,
) -> None:
    records = [*_without(healthy_records(), PalLink), _not_linked()]
    snapshot = build_snapshot(records, ctx)

    [cand] = evaluate(RULE, snapshot, ctx)

    assert cand.verdict is Verdict.FIRING
    assert cand.customer_tenant_id == TENANT
    assert cand.subject == f"pal on azure:{SUB}"
    assert cand.link_kind == LinkKind.PAL
    assert cand.link_id == f"azure:{SUB}"
    assert cand.evidence["expected_from"] == "default"
    assert cand.evidence["right_partner_ids"] == sorted(ctx.right_ids("pal"))


def test_missing_cpor_from_the_managed_customers_file_fires(ctx: AuditContext) -> None:
    snapshot = build_snapshot(healthy_records(cpor_partner=None), ctx)

    [cand] = evaluate(RULE, snapshot, ctx)

    assert cand.verdict is Verdict.FIRING
    assert (cand.link_kind, cand.link_id) == (LinkKind.CPOR, "m365")
    assert cand.evidence["expected_from"] == "file"
    assert cand.evidence["right_partner_ids"] == sorted({HQ, TRAINING})


def test_link_held_by_another_partner_is_not_missing(ctx: AuditContext) -> None:
    # Microsoft credits another partner (DPOR) on the workload where we expect our CPOR, and
    # our own identity's PAL names another partner: both are "held by other", not "missing".
    records = [
        *_without(healthy_records(cpor_partner=None), PalLink),
        PalLink(customer_tenant_id=TENANT, identity=APP, partner_id=OTHER, subscriptions=(SUB,)),
        Attribution(
            customer_tenant_id=TENANT, workload="m365", attribution_type="DPOR", partner_id=OTHER
        ),
    ]
    snapshot = build_snapshot(records, ctx)

    assert evaluate(RULE, snapshot, ctx) == []


def test_link_that_existed_before_is_disappeared_not_missing() -> None:
    runs = Runs()
    runs.next(healthy_records())
    snapshot, ctx = runs.next([*_without(healthy_records(), PalLink), _not_linked()])

    assert evaluate(RULE, snapshot, ctx) == []
    [gone] = evaluate(link_disappeared.RULE, snapshot, ctx)
    assert gone.link_kind == LinkKind.PAL


def test_failed_pal_read_for_one_identity_makes_the_verdict_unknown() -> None:
    # The app read its PAL completely (not linked), but the carrier could not sign in: the
    # carrier may well hold our PAL, so "missing" cannot be claimed.
    ctx = make_context(identities=(APP, CARRIER))
    statuses = with_status(
        all_complete(identities=(APP, CARRIER)), {key(Source.ARM_PAL, CARRIER): "failed"}
    )
    records = [*_without(healthy_records(), PalLink), _not_linked()]
    snapshot = build_snapshot(records, ctx, statuses=statuses)

    [cand] = evaluate(RULE, snapshot, ctx)

    assert cand.link_kind == LinkKind.PAL
    assert cand.verdict is Verdict.UNKNOWN


def test_every_identity_read_completely_without_pal_fires() -> None:
    ctx = make_context(identities=(APP, CARRIER))
    records = [*_without(healthy_records(), PalLink), _not_linked(), _not_linked(CARRIER)]
    snapshot = build_snapshot(records, ctx, statuses=all_complete(identities=(APP, CARRIER)))

    [cand] = evaluate(RULE, snapshot, ctx)

    assert cand.verdict is Verdict.FIRING


def test_pal_never_read_for_any_identity_is_unknown(ctx: AuditContext) -> None:
    statuses = {k: v for k, v in all_complete().items() if k[0] != Source.ARM_PAL.value}
    records = [r for r in healthy_records() if not isinstance(r, PalLink)]
    snapshot = build_snapshot(records, ctx, statuses=statuses)

    [cand] = evaluate(RULE, snapshot, ctx)

    assert cand.verdict is Verdict.UNKNOWN


def test_missing_cpor_is_unknown_when_the_insight_reports_failed(ctx: AuditContext) -> None:
    statuses = with_status(all_complete(), {key(Source.INSIGHTS): "failed"})
    snapshot = build_snapshot(healthy_records(cpor_partner=None), ctx, statuses=statuses)

    [cand] = evaluate(RULE, snapshot, ctx)

    assert cand.link_kind == LinkKind.CPOR
    assert cand.verdict is Verdict.UNKNOWN


def test_gdap_with_an_unrecognised_status_is_not_reported_missing(ctx: AuditContext) -> None:
    # guarantee proven-absence: a status Graph added later ("unknownFutureValue") says nothing about the link.
    records = [
        *[r for r in healthy_records() if r.KIND != "gdap_relationship"],
        gdap(status=GdapStatus.UNKNOWN, raw="unknownFutureValue", ends_in=timedelta(days=300)),
    ]
    expectations = file_expectations((LinkKind.GDAP, "tenant"))
    snapshot = build_snapshot(records, ctx, expectations=expectations)

    [cand] = evaluate(RULE, snapshot, ctx)

    assert cand.verdict is Verdict.UNKNOWN


def test_missing_gdap_fires_when_the_relationship_list_is_complete(ctx: AuditContext) -> None:
    records = [r for r in healthy_records() if r.KIND != "gdap_relationship"]
    snapshot = build_snapshot(
        records, ctx, expectations=file_expectations((LinkKind.GDAP, "tenant"))
    )

    [cand] = evaluate(RULE, snapshot, ctx)

    assert (cand.link_kind, cand.link_id, cand.verdict) == (LinkKind.GDAP, "tenant", Verdict.FIRING)


def test_fingerprint_is_stable_across_two_evaluations(ctx: AuditContext) -> None:
    snapshot = build_snapshot(healthy_records(cpor_partner=None), ctx, expectations=CPOR_ON_M365)

    first = fingerprints(evaluate(RULE, snapshot, ctx), ctx)
    again = fingerprints(
        evaluate(RULE, build_snapshot(healthy_records(cpor_partner=None), ctx), ctx), ctx
    )

    assert first == again
    assert len(first) == 1


def test_rule_needs_no_source_gate_because_it_judges_completeness_per_link_kind() -> None:
    # A source gate would hide the UNKNOWN verdict; the rule decides per kind instead.
    assert RULE.meta.id == "link_missing"
    assert RULE.meta.required_sources == ()


def test_link_seen_only_in_last_known_data_is_unknown_not_cleared(ctx: AuditContext) -> None:
    """The PAL read failed and the PAL is present only as stored from an earlier run: this
    run cannot say it is still there, so an open finding must not count it as cleared (guarantee resolve-once)."""
    failed = with_status(all_complete(), {key(Source.ARM_PAL, APP): "failed"})
    snapshot = build_snapshot(healthy_records(), ctx, statuses=failed)

    [cand] = evaluate(RULE, snapshot, ctx)

    assert cand.verdict is Verdict.UNKNOWN
    assert (cand.link_kind, cand.link_id) == (LinkKind.PAL, f"azure:{SUB}")


def test_remediation_names_the_identity_that_can_carry_the_pal_and_the_right_ids(
    ctx: AuditContext,
) -> None:
    records = [*_without(healthy_records(), PalLink), _not_linked()]
    [cand] = evaluate(RULE, build_snapshot(records, ctx), ctx)

    assert cand.evidence["identities_with_access"] == [APP]
    assert cand.remediation == (
        f"As {APP} in Alpine Dairy Co-op's tenant, link it: `az managementpartner create "
        f"--partner-id {' or '.join(sorted(ctx.right_ids('pal')))}`."
    )


def test_a_cpor_missing_where_another_csp_sold_the_licences_is_that_finding_alone(
    ctx: AuditContext,
) -> None:
    """One cause, one finding: we expect our CPOR on m365, none is there, and another
    partner's tenant sold the licences. recognition_held_by_other names the seller and the
    CPOR claim that would count; link_missing adds nothing."""
    elsewhere = "9e000000-0000-4000-8000-000000000005"
    records = [
        *healthy_records(cpor_partner=None),
        *licence("O365_BUSINESS_PREMIUM", 140, owner=elsewhere),
    ]
    snapshot = build_snapshot(records, ctx)
    directly_bought = build_snapshot(
        [*healthy_records(cpor_partner=None), *licence("O365_BUSINESS_PREMIUM", 140, owner=None)],
        ctx,
    )

    assert [c for c in evaluate(RULE, snapshot, ctx) if c.link_id == "m365"] == []
    assert len(evaluate(recognition_held_by_other.RULE, snapshot, ctx)) == 1
    assert [c.link_id for c in evaluate(RULE, directly_bought, ctx) if c.link_id == "m365"] == [
        "m365"
    ]
