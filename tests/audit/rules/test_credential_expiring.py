"""credential_expiring: one partner-level finding per identity whose secret or certificate ends
within the lead time; critical in its last week; unknown (held) while never read; nothing per
customer; the refresh token is another rule's."""

from __future__ import annotations

from datetime import datetime, timedelta

from agent.audit.credential import REFRESH_TOKEN, CredentialState
from agent.audit.model import Severity, Verdict
from agent.audit.rules import credential_expiring
from agent.audit.snapshot import CustomerSnapshot

from .conftest import APP, CARRIER, NOW, build_snapshot, evaluate, healthy_records, make_context

RULE = credential_expiring.RULE
LEAD = timedelta(days=30)
APP_ID = "a9900000-0000-4000-8000-0000000000a1"


def _partner_level() -> CustomerSnapshot:
    return CustomerSnapshot(tenant_id="", records={}, statuses={})


def _state(
    expires: datetime | None, *, identity: str = APP, kind: str = "secret", lead: timedelta = LEAD
) -> CredentialState:
    return CredentialState(
        identity, kind, expires, lead, app_id=APP_ID, evidence={"matched": False, "credentials": 2}
    )


def test_a_credential_beyond_the_lead_time_raises_nothing() -> None:
    ctx = make_context(credentials=(_state(NOW + LEAD + timedelta(days=1)),))
    assert evaluate(RULE, _partner_level(), ctx) == []


def test_the_partners_secret_fires_at_its_lead_time_with_date_and_days_left() -> None:
    expires = NOW + timedelta(days=20, hours=3)
    ctx = make_context(credentials=(_state(expires),))

    [cand] = evaluate(RULE, _partner_level(), ctx)

    assert cand.customer_tenant_id is None
    assert cand.link_id == APP
    assert cand.title == (
        f"The client secret of the partner's app expires on {expires.date()} (in 20 days)"
    )
    assert cand.severity is None  # the rule's own: high
    assert cand.evidence["days_left"] == 20
    assert cand.evidence["lead_days"] == 30
    assert cand.evidence["credentials"] == 2
    assert cand.remediation is not None
    assert f"(app id {APP_ID})" in cand.remediation
    assert f"before {expires.date()}" in cand.remediation


def test_the_lead_time_is_the_states_own() -> None:
    expires = NOW + timedelta(days=45)
    assert evaluate(RULE, _partner_level(), make_context(credentials=(_state(expires),))) == []
    longer = make_context(credentials=(_state(expires, lead=timedelta(days=60)),))
    assert len(evaluate(RULE, _partner_level(), longer)) == 1


def test_the_last_week_and_an_ended_credential_are_critical() -> None:
    for expires, words in (
        (NOW + timedelta(days=6), "expires on"),
        (NOW - timedelta(days=1), "expired on"),
    ):
        ctx = make_context(credentials=(_state(expires, kind="certificate"),))
        [cand] = evaluate(RULE, _partner_level(), ctx)
        assert cand.severity is Severity.CRITICAL
        assert cand.title.startswith(f"The certificate of the partner's app {words}")


def test_each_carrier_is_its_own_finding() -> None:
    soon = NOW + timedelta(days=10)
    ctx = make_context(credentials=(_state(soon), _state(soon, identity=CARRIER)))

    found = evaluate(RULE, _partner_level(), ctx)

    assert [c.link_id for c in found] == [APP, CARRIER]
    assert found[1].title.startswith(f"The client secret of PAL carrier {CARRIER} expires")
    assert "(carrier pal-carrier-ops)" in (found[1].remediation or "")


def test_a_credential_never_read_is_unknown_and_held() -> None:
    ctx = make_context(credentials=(_state(None),))

    [cand] = evaluate(RULE, _partner_level(), ctx)

    assert cand.verdict is Verdict.UNKNOWN


def test_the_refresh_token_is_left_to_its_own_rule() -> None:
    token = CredentialState("app+user", REFRESH_TOKEN, NOW + timedelta(days=2), LEAD)
    assert evaluate(RULE, _partner_level(), make_context(credentials=(token,))) == []


def test_nothing_per_customer() -> None:
    ctx = make_context(credentials=(_state(NOW + timedelta(days=3)),))
    assert evaluate(RULE, build_snapshot(healthy_records(), ctx), ctx) == []
