"""gdap_expiring: an active relationship ends within the lead time and will not auto-extend
(auto-extend off, or Global Administrator among its roles)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from agent.audit.context import AuditContext
from agent.audit.model import Severity
from agent.audit.rules import gdap_expiring
from connectors.records.gdap import GLOBAL_ADMINISTRATOR_ROLE, GdapStatus
from connectors.records.record import Record
from connectors.records.scope import Source

from .conftest import (
    READER_ROLE,
    TENANT,
    build_snapshot,
    evaluate,
    fingerprints,
    gdap,
    healthy_records,
    make_context,
)

RULE = gdap_expiring.RULE
WITH_GA = (READER_ROLE, GLOBAL_ADMINISTRATOR_ROLE)


def _with_relationship(**kwargs: object) -> list[Record]:
    records = [r for r in healthy_records() if r.KIND != "gdap_relationship"]
    records.append(gdap(**kwargs))  # type: ignore[arg-type]
    return records


def test_relationship_ending_far_away_does_not_fire(ctx: AuditContext) -> None:
    assert evaluate(RULE, build_snapshot(healthy_records(), ctx), ctx) == []


def test_auto_extend_on_without_global_administrator_does_not_fire(ctx: AuditContext) -> None:
    records = _with_relationship(ends_in=timedelta(days=10), auto_extend="P180D")

    assert evaluate(RULE, build_snapshot(records, ctx), ctx) == []


def test_auto_extend_on_with_global_administrator_fires(ctx: AuditContext) -> None:
    records = _with_relationship(ends_in=timedelta(days=20), auto_extend="P180D", roles=WITH_GA)

    [cand] = evaluate(RULE, build_snapshot(records, ctx), ctx)

    assert cand.customer_tenant_id == TENANT
    assert cand.subject == "gdap rel-1"
    assert (cand.link_kind, cand.link_id) == ("gdap", "rel-1")
    assert cand.evidence["why"] == "it includes the Global Administrator role"
    assert cand.evidence["days_left"] == 20
    assert cand.evidence["ends"] == (ctx.now + timedelta(days=20)).isoformat()
    assert cand.evidence["auto_extend_duration"] == "P180D"
    assert cand.severity is None  # the rule's own (high) severity
    assert "ends in 20 days" in cand.title
    assert cand.evidence["global_administrator"] is True
    assert cand.remediation is not None
    assert cand.remediation.startswith(
        f"Before {(ctx.now + timedelta(days=20)).date()}, send "
        "Alpine Dairy Co-op a new GDAP relationship request"
    )


@pytest.mark.parametrize("duration", ["PT0S", "P0D", ""])
def test_auto_extend_off_fires(ctx: AuditContext, duration: str) -> None:
    records = _with_relationship(ends_in=timedelta(days=20), auto_extend=duration)

    [cand] = evaluate(RULE, build_snapshot(records, ctx), ctx)

    assert cand.evidence["why"] == "auto-extend is off"


def test_relationship_ending_beyond_the_lead_time_does_not_fire(ctx: AuditContext) -> None:
    records = _with_relationship(ends_in=timedelta(days=31), auto_extend="PT0S")

    assert ctx.gdap_expiry_lead_days == 30
    assert evaluate(RULE, build_snapshot(records, ctx), ctx) == []


def test_relationship_ending_exactly_at_the_lead_time_fires(ctx: AuditContext) -> None:
    records = _with_relationship(ends_in=timedelta(days=30), auto_extend="PT0S")

    assert len(evaluate(RULE, build_snapshot(records, ctx), ctx)) == 1


def test_lead_time_is_configurable() -> None:
    ctx = make_context(gdap_expiry_lead_days=60)
    records = _with_relationship(ends_in=timedelta(days=45), auto_extend="PT0S")

    assert len(evaluate(RULE, build_snapshot(records, ctx), ctx)) == 1


def test_last_week_is_critical(ctx: AuditContext) -> None:
    records = _with_relationship(ends_in=timedelta(days=5), auto_extend="PT0S")

    [cand] = evaluate(RULE, build_snapshot(records, ctx), ctx)

    assert cand.severity is Severity.CRITICAL


@pytest.mark.parametrize(
    ("status", "raw"),
    [
        (GdapStatus.UNKNOWN, "unknownFutureValue"),
        (GdapStatus.UNKNOWN, "somethingNew"),
        (GdapStatus.EXPIRED, None),
        (GdapStatus.TERMINATED, None),
        (GdapStatus.APPROVAL_PENDING, None),
    ],
)
def test_relationship_that_is_not_active_never_fires(
    ctx: AuditContext, status: GdapStatus, raw: str | None
) -> None:
    # guarantee proven-absence for unknown statuses; ended relationships are another rule's business.
    records = _with_relationship(
        status=status, raw=raw, ends_in=timedelta(days=3), auto_extend="PT0S", roles=WITH_GA
    )

    assert evaluate(RULE, build_snapshot(records, ctx), ctx) == []


def test_relationship_without_an_end_date_does_not_fire(ctx: AuditContext) -> None:
    records = _with_relationship(ends_in=None, auto_extend="PT0S")

    assert evaluate(RULE, build_snapshot(records, ctx), ctx) == []


def test_fingerprint_is_stable_across_two_evaluations(ctx: AuditContext) -> None:
    records = _with_relationship(ends_in=timedelta(days=20), roles=WITH_GA)

    first = fingerprints(evaluate(RULE, build_snapshot(records, ctx), ctx), ctx)
    again = fingerprints(evaluate(RULE, build_snapshot(records, ctx), ctx), ctx)

    assert first == again
    assert len(first) == 1


def test_rule_requires_a_complete_gdap_read() -> None:
    assert RULE.meta.id == "gdap_expiring"
    assert RULE.meta.required_sources == (Source.GRAPH_GDAP,)
