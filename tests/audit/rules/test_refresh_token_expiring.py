"""refresh_token_expiring: the app+user refresh token dies 90 days after its last use; the
finding opens ``lead`` before that (90 - refresh_token_warn_days), is critical in the last week,
says so once dead, and asks for a sign-in when no token is stored."""

from __future__ import annotations

from datetime import datetime, timedelta

from agent.audit.credential import REFRESH_TOKEN, REFRESH_TOKEN_IDLE, CredentialState
from agent.audit.model import Severity
from agent.audit.rules import refresh_token_expiring
from agent.audit.snapshot import CustomerSnapshot

from .conftest import APP, NOW, build_snapshot, evaluate, healthy_records, make_context

RULE = refresh_token_expiring.RULE
LEAD = timedelta(days=30)  # refresh_token_warn_days = 60


def _partner_level() -> CustomerSnapshot:
    return CustomerSnapshot(tenant_id="", records={}, statuses={})


def _token(rotated: datetime | None) -> CredentialState:
    if rotated is None:
        return CredentialState("app+user", REFRESH_TOKEN, None, LEAD, evidence={"stored": False})
    evidence = {"stored": True, "rotated_at": rotated.isoformat()}
    return CredentialState(
        "app+user", REFRESH_TOKEN, rotated + REFRESH_TOKEN_IDLE, LEAD, evidence=evidence
    )


def test_a_token_used_recently_raises_nothing() -> None:
    ctx = make_context(credentials=(_token(NOW - timedelta(days=59)),))
    assert evaluate(RULE, _partner_level(), ctx) == []


def test_a_token_idle_past_the_warning_fires_with_its_date_of_death() -> None:
    rotated = NOW - timedelta(days=70)
    ctx = make_context(credentials=(_token(rotated),))

    [cand] = evaluate(RULE, _partner_level(), ctx)

    dies = (rotated + REFRESH_TOKEN_IDLE).date()
    assert cand.customer_tenant_id is None
    assert cand.title == f"The app+user refresh token dies on {dies} (in 20 days) unless it is used"
    assert cand.severity is None
    assert cand.evidence["days_left"] == 20
    assert cand.evidence["rotated_at"] == rotated.isoformat()
    assert "partnerlink auth login" in (cand.remediation or "")


def test_its_last_week_is_critical_and_a_dead_token_says_so() -> None:
    ctx = make_context(credentials=(_token(NOW - timedelta(days=85)),))
    [cand] = evaluate(RULE, _partner_level(), ctx)
    assert cand.severity is Severity.CRITICAL

    ctx = make_context(credentials=(_token(NOW - timedelta(days=95)),))
    [dead] = evaluate(RULE, _partner_level(), ctx)
    assert dead.title.startswith("The app+user refresh token died of idleness on ")
    assert dead.evidence["days_left"] == 0


def test_no_stored_token_asks_for_a_sign_in() -> None:
    ctx = make_context(credentials=(_token(None),))

    [cand] = evaluate(RULE, _partner_level(), ctx)

    assert cand.title.startswith("No app+user refresh token is stored")
    assert cand.remediation == "Run `partnerlink auth login` as a partner administrator."


def test_app_credentials_are_left_to_their_own_rule() -> None:
    secret = CredentialState(APP, "secret", NOW + timedelta(days=2), LEAD)
    assert evaluate(RULE, _partner_level(), make_context(credentials=(secret,))) == []


def test_nothing_per_customer() -> None:
    ctx = make_context(credentials=(_token(NOW - timedelta(days=89)),))
    assert evaluate(RULE, build_snapshot(healthy_records(), ctx), ctx) == []
