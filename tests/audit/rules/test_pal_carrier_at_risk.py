"""pal_carrier_at_risk: an identity carrying our PAL whose credential expires within the lead
time, that is disabled, or that lost its role on subscriptions its PAL covered."""

from __future__ import annotations

from datetime import datetime, timedelta

from agent.audit.context import AuditContext
from agent.audit.model import Candidate, Severity, Verdict
from agent.audit.rules import pal_carrier_at_risk
from connectors.records.attribution import Attribution
from connectors.records.pal import Identity, PalLink
from connectors.records.record import Record
from connectors.records.scope import Source

from .conftest import (
    APP,
    CARRIER,
    HQ,
    NOW,
    OTHER,
    SUB,
    TENANT,
    Runs,
    all_complete,
    build_snapshot,
    evaluate,
    evaluated,
    firing,
    healthy_records,
    key,
    make_context,
    with_status,
)

RULE = pal_carrier_at_risk.RULE
SUB2 = "50000001-0000-4000-8000-000000000002"
APP_ID = "a9900000-0000-4000-8000-0000000000c1"
CARRIER_OID = "0b000001-0000-4000-8000-000000000002"


def _carrier(
    *,
    expires: datetime | None = NOW + timedelta(days=400),
    enabled: bool = True,
    pal: str | None = HQ,
    subs: tuple[str, ...] = (SUB, SUB2),
) -> list[Record]:
    """A customer whose second identity, a PAL carrier, links our HQ ID on two subscriptions
    worth 5,000 and 700 USD a month."""
    return [
        *healthy_records(),
        Identity(
            customer_tenant_id=TENANT,
            identity=CARRIER,
            object_id=CARRIER_OID,
            app_id=APP_ID,
            enabled=enabled,
            credential_expires=expires,
        ),
        PalLink(customer_tenant_id=TENANT, identity=CARRIER, partner_id=pal, subscriptions=subs),
        Attribution(
            customer_tenant_id=TENANT,
            workload=f"azure:{SUB}",
            attribution_type="PAL",
            partner_id=HQ,
            acr_usd=5000.0,
        ),
        Attribution(
            customer_tenant_id=TENANT,
            workload=f"azure:{SUB2}",
            attribution_type="PAL",
            partner_id=HQ,
            acr_usd=700.0,
        ),
    ]


IDENTITIES = (APP, CARRIER)


def _ctx(**overrides: object) -> AuditContext:
    return make_context(identities=IDENTITIES, **overrides)


def _of(cands: list[Candidate], name: str = CARRIER) -> list[Candidate]:
    """The candidates about one identity."""
    return [c for c in cands if c.link_id == name]


def test_carrier_with_a_distant_expiry_enabled_and_its_roles_is_fine() -> None:
    ctx = _ctx()
    snapshot = build_snapshot(_carrier(), ctx)

    assert _of(evaluate(RULE, snapshot, ctx)) == []


def test_credential_expiring_within_the_lead_time_fires_with_date_identity_and_stake() -> None:
    ctx = _ctx()
    expires = NOW + timedelta(days=20, hours=3)
    [cand] = _of(firing(RULE, build_snapshot(_carrier(expires=expires), ctx), ctx))

    assert cand.customer_tenant_id == TENANT
    assert (cand.link_kind, cand.link_id) == ("pal", CARRIER)
    assert cand.title == (
        f"PAL carrier {CARRIER} in Alpine Dairy Co-op: credential expires on "
        f"{expires.date()} (in 20 days)"
    )
    assert cand.evidence["credential_expires"] == expires.isoformat()
    assert cand.evidence["days_left"] == 20
    assert cand.evidence["subscriptions_covered"] == [SUB, SUB2]
    assert cand.value_at_stake == 5700.0
    assert cand.remediation is not None
    assert f"app id {APP_ID}" in cand.remediation
    assert f"before {expires.date()}" in cand.remediation
    assert cand.severity is None  # the rule's own: high
    assert RULE.meta.severity is Severity.HIGH


def test_lead_time_is_configurable() -> None:
    records = _carrier(expires=NOW + timedelta(days=45))
    ctx = _ctx()
    assert _of(firing(RULE, build_snapshot(records, ctx), ctx)) == []
    ctx = _ctx(credential_expiry_lead_days=60)
    assert len(_of(firing(RULE, build_snapshot(records, ctx), ctx))) == 1


def test_expired_credential_is_critical() -> None:
    ctx = _ctx()
    expired = NOW - timedelta(days=2)
    [cand] = _of(firing(RULE, build_snapshot(_carrier(expires=expired), ctx), ctx))

    assert cand.severity is Severity.CRITICAL
    assert f"credential expired on {expired.date()}" in cand.title
    assert cand.evidence["days_left"] == 0


def test_disabled_service_principal_fires_with_how_to_re_enable_it() -> None:
    ctx = _ctx()
    [cand] = _of(firing(RULE, build_snapshot(_carrier(enabled=False), ctx), ctx))

    assert cand.title.endswith("its service principal is disabled")
    assert cand.evidence["enabled"] is False
    assert cand.remediation is not None
    assert f"Re-enable the service principal {CARRIER} (object id {CARRIER_OID})" in (
        cand.remediation
    )


def test_carrier_that_lost_its_role_on_a_subscription_fires_naming_it() -> None:
    """The motivating case: the PAL is still set, but the identity no longer reaches SUB2, so
    the usage there earns nothing; the stake is what that subscription is worth."""
    runs = Runs(identities=IDENTITIES)
    runs.next(_carrier())
    snapshot, ctx = runs.next(_carrier(subs=(SUB,)))

    [cand] = _of(firing(RULE, snapshot, ctx))

    assert cand.evidence["lost_role_on"] == [SUB2]
    assert cand.title.endswith(f"lost its role on subscription {SUB2}")
    assert cand.value_at_stake == 5700.0
    assert cand.remediation is not None
    assert f"--assignee {CARRIER_OID}" in cand.remediation


def test_lost_role_is_taken_from_the_recorded_cause_while_the_pal_read_fails() -> None:
    runs = Runs(identities=IDENTITIES)
    runs.next(_carrier())
    runs.next(_carrier(subs=(SUB,)))
    failed = with_status(
        all_complete(identities=IDENTITIES), {key(Source.ARM_PAL, CARRIER): "failed"}
    )
    snapshot, ctx = runs.next(_carrier(subs=(SUB,)), statuses=failed)

    [cand] = _of(evaluate(RULE, snapshot, ctx))

    assert cand.verdict is Verdict.FIRING
    assert cand.evidence["lost_role_on"] == [SUB2]


def test_role_back_clears_it() -> None:
    runs = Runs(identities=IDENTITIES)
    runs.next(_carrier())
    runs.next(_carrier(subs=(SUB,)))
    snapshot, ctx = runs.next(_carrier())

    assert _of(evaluate(RULE, snapshot, ctx)) == []


def test_unknown_expiry_or_a_failed_pal_read_cannot_tell() -> None:
    ctx = _ctx()
    [no_expiry] = _of(evaluate(RULE, build_snapshot(_carrier(expires=None), ctx), ctx))
    failed = with_status(
        all_complete(identities=IDENTITIES), {key(Source.ARM_PAL, CARRIER): "failed"}
    )
    [no_pal] = _of(evaluate(RULE, build_snapshot(_carrier(), ctx, statuses=failed), ctx))

    assert no_expiry.verdict is Verdict.UNKNOWN
    assert no_pal.verdict is Verdict.UNKNOWN


def test_identity_that_does_not_carry_our_pal_is_not_watched() -> None:
    ctx = _ctx()
    soon = NOW + timedelta(days=3)
    for pal in (None, OTHER):
        snapshot = build_snapshot(_carrier(expires=soon, pal=pal), ctx)
        assert _of(evaluate(RULE, snapshot, ctx)) == []


def test_deleted_identity_is_left_to_link_disappeared() -> None:
    runs = Runs(identities=IDENTITIES)
    runs.next(_carrier())
    records = [r for r in _carrier() if not (isinstance(r, Identity) and r.identity == CARRIER)]
    snapshot, ctx = runs.next(records)

    assert _of(evaluate(RULE, snapshot, ctx)) == []


def test_the_partners_app_is_watched_like_any_carrier() -> None:
    ctx = _ctx()
    records = [r for r in _carrier() if not (isinstance(r, Identity) and r.identity == APP)]
    records.append(
        Identity(
            customer_tenant_id=TENANT,
            identity=APP,
            enabled=False,
            credential_expires=NOW + timedelta(days=400),
        )
    )

    [cand] = _of(firing(RULE, build_snapshot(records, ctx), ctx), APP)

    assert (
        cand.title == f"PAL carrier {APP} in Alpine Dairy Co-op: its service principal is disabled"
    )


def test_not_evaluated_when_the_identities_read_is_incomplete() -> None:
    ctx = _ctx()
    failed = with_status(
        all_complete(identities=IDENTITIES), {key(Source.GRAPH_IDENTITIES): "failed"}
    )

    assert RULE.meta.required_sources == (Source.GRAPH_IDENTITIES,)
    assert evaluated(RULE, build_snapshot(_carrier(), ctx)) is True
    assert evaluated(RULE, build_snapshot(_carrier(), ctx, statuses=failed)) is False
