"""gdap_ended: no active GDAP relationship is left and the last one expired or was terminated;
``expired`` is never worded as a termination, and an unrecognised status never fires (guarantee proven-absence)."""

from __future__ import annotations

from datetime import timedelta

from agent.audit.model import Severity, Verdict
from agent.audit.rules import gdap_ended
from connectors.records.gdap import GLOBAL_ADMINISTRATOR_ROLE, GdapStatus
from connectors.records.record import Record
from connectors.records.scope import Source

from .conftest import (
    READER_ROLE,
    TENANT,
    all_complete,
    build_snapshot,
    evaluate,
    evaluated,
    fingerprints,
    firing,
    gdap,
    healthy_records,
    key,
    make_context,
    with_status,
)

RULE = gdap_ended.RULE


def _with_gdap(*relationships: Record) -> list[Record]:
    return [*(r for r in healthy_records() if r.KIND != "gdap_relationship"), *relationships]


def test_active_relationship_never_fires() -> None:
    ctx = make_context()
    assert evaluate(RULE, build_snapshot(healthy_records(), ctx), ctx) == []


def test_terminated_relationship_with_nothing_active_fires_with_its_date() -> None:
    ctx = make_context()
    snapshot = build_snapshot(
        _with_gdap(gdap(status=GdapStatus.TERMINATED, ends_in=timedelta(days=-3))), ctx
    )

    [cand] = firing(RULE, snapshot, ctx)

    ended_on = (ctx.now - timedelta(days=3)).date().isoformat()
    assert cand.customer_tenant_id == TENANT
    assert (cand.link_kind, cand.link_id) == ("gdap", "tenant")
    assert cand.title == (
        "No active GDAP relationship with Alpine Dairy Co-op: Managed services "
        f"terminated on {ended_on}"
    )
    assert cand.evidence["ended"] == "terminated"
    assert cand.evidence["ended_on"] == ended_on
    assert cand.evidence["relationship_id"] == "rel-1"
    assert cand.remediation is not None
    assert cand.remediation.startswith("Confirm with Alpine Dairy Co-op that it still wants")
    assert "new GDAP relationship request" in cand.remediation
    assert RULE.meta.severity is Severity.HIGH


def test_expired_with_end_date_in_the_past_is_an_expiry_not_a_termination() -> None:
    """guarantee proven-absence: status ``expired`` with endDateTime in the past gives an "expired" finding."""
    ctx = make_context()
    rel = gdap(status=GdapStatus.EXPIRED, ends_in=timedelta(days=-1), auto_extend="PT0S")
    [cand] = firing(RULE, build_snapshot(_with_gdap(rel), ctx), ctx)

    assert cand.evidence["ended"] == "expired"
    assert "terminated" not in cand.title
    assert cand.title.endswith(
        f"expired on {(ctx.now - timedelta(days=1)).date()} (auto-extend was off)"
    )
    assert cand.evidence["why"] == "auto-extend was off"
    assert cand.remediation is not None
    assert cand.remediation.startswith("Send Alpine Dairy Co-op a new GDAP relationship request")


def test_expiry_blocked_by_global_administrator_says_so() -> None:
    ctx = make_context()
    rel = gdap(
        status=GdapStatus.EXPIRED,
        ends_in=timedelta(days=-1),
        roles=(GLOBAL_ADMINISTRATOR_ROLE, READER_ROLE),
    )
    [cand] = firing(RULE, build_snapshot(_with_gdap(rel), ctx), ctx)

    assert cand.evidence["had_global_administrator"] is True
    assert cand.evidence["why"] == "it included Global Administrator, which blocks auto-extend"


def test_a_new_active_relationship_resolves_it() -> None:
    ctx = make_context()
    old = gdap(rel_id="rel-old", status=GdapStatus.EXPIRED, ends_in=timedelta(days=-40))
    new = gdap(rel_id="rel-new", ends_in=timedelta(days=700))

    assert evaluate(RULE, build_snapshot(_with_gdap(old, new), ctx), ctx) == []


def test_a_request_waiting_for_approval_does_not_count_as_active_but_is_named() -> None:
    ctx = make_context()
    old = gdap(rel_id="rel-old", status=GdapStatus.EXPIRED, ends_in=timedelta(days=-2))
    waiting = gdap(rel_id="rel-new", status=GdapStatus.APPROVAL_PENDING, ends_in=None)

    [cand] = firing(RULE, build_snapshot(_with_gdap(old, waiting), ctx), ctx)

    assert cand.evidence["requests_waiting"] == [
        {
            "relationship_id": "rel-new",
            "display_name": "Managed services",
            "status": "approvalPending",
        }
    ]
    assert cand.remediation is not None
    assert cand.remediation.startswith(
        "A new request is already waiting: Managed services (approvalPending)."
    )


def test_one_finding_per_customer_naming_the_latest_ended_relationship() -> None:
    ctx = make_context()
    older = gdap(rel_id="rel-a", status=GdapStatus.EXPIRED, ends_in=timedelta(days=-400))
    newer = gdap(rel_id="rel-b", status=GdapStatus.TERMINATED, ends_in=timedelta(days=-5))

    [cand] = firing(RULE, build_snapshot(_with_gdap(older, newer), ctx), ctx)
    [alone] = firing(RULE, build_snapshot(_with_gdap(newer), ctx), ctx)

    assert cand.evidence["relationship_id"] == "rel-b"
    assert cand.evidence["other_ended"] == ["rel-a"]
    assert fingerprints([cand], ctx) == fingerprints([alone], ctx)


def test_unrecognised_status_never_fires_and_makes_an_ended_one_unknown() -> None:
    """guarantee proven-absence: ``unknownFutureValue`` may be the active relationship: the rule cannot tell."""
    ctx = make_context()
    strange = gdap(
        rel_id="rel-x",
        status=GdapStatus.UNKNOWN,
        raw="unknownFutureValue",
        ends_in=timedelta(days=300),
    )
    ended = gdap(status=GdapStatus.TERMINATED, ends_in=timedelta(days=-3))

    assert evaluate(RULE, build_snapshot(_with_gdap(strange), ctx), ctx) == []
    [cand] = evaluate(RULE, build_snapshot(_with_gdap(strange, ended), ctx), ctx)
    assert cand.verdict is Verdict.UNKNOWN


def test_not_evaluated_when_the_gdap_read_is_incomplete() -> None:
    ctx = make_context()
    failed = with_status(all_complete(), {key(Source.GRAPH_GDAP): "failed"})
    records = _with_gdap(gdap(status=GdapStatus.TERMINATED, ends_in=timedelta(days=-3)))

    assert RULE.meta.required_sources == (Source.GRAPH_GDAP,)
    assert evaluated(RULE, build_snapshot(records, ctx)) is True
    assert evaluated(RULE, build_snapshot(records, ctx, statuses=failed)) is False


def test_stake_is_what_rides_on_the_tenant() -> None:
    ctx = make_context()
    [cand] = firing(
        RULE,
        build_snapshot(
            _with_gdap(gdap(status=GdapStatus.TERMINATED, ends_in=timedelta(days=-3))), ctx
        ),
        ctx,
    )

    assert cand.evidence["stake"] == {"mau": 120}
    assert cand.value_at_stake == 120.0
