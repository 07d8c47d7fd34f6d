"""agent.causes: the codes Microsoft answers with, in plain words, with the step that fixes them."""

from __future__ import annotations

import pytest

from agent.causes import CauseKind, as_identity, cause_of, fix_for


@pytest.mark.parametrize(
    ("error", "kind", "code"),
    [
        (
            "... refused: invalid_client (...) [AADSTS7000229] correlation id 1",
            "consent_missing",
            "AADSTS7000229",
        ),
        ("... refused: unauthorized_client [AADSTS700016]", "consent_missing", "AADSTS700016"),
        ("AADSTS650052: The app needs access to a service", "consent_missing", "AADSTS650052"),
        ("... [AADSTS7000222]", "credential_expired", "AADSTS7000222"),
        ("... [AADSTS7000215]", "credential_invalid", "AADSTS7000215"),
        ("... [AADSTS7000112]", "identity_disabled", "AADSTS7000112"),
        ("... [AADSTS53003]", "sign_in_blocked", "AADSTS53003"),
        ("... [AADSTS700082]", "sign_in_required", "AADSTS700082"),
        ("... [AADSTS90002]", "tenant_not_found", "AADSTS90002"),
        ("... [AADSTS99999]", "sign_in_refused", "AADSTS99999"),
        (
            "graph.x for t failed: Insufficient privileges (HTTP 403, Authorization_RequestDenied)",
            "permission_missing",
            "HTTP 403 Authorization_RequestDenied",
        ),
        (
            "arm.subscriptions for t failed (HTTP 403, AuthorizationFailed)",
            "no_azure_role",
            "HTTP 403 AuthorizationFailed",
        ),
        (
            "pc for t failed: No relationship between caller and account. (HTTP 403, 20002)",
            "relationship_ended",
            "Partner Center 20002",
        ),
        (
            "pc for t failed: Authorization Failed (HTTP 403, 1002)",
            "access_denied",
            "Partner Center 1002",
        ),
        ("x failed (HTTP 403)", "access_denied", "HTTP 403"),
        (
            "x failed: Please retry again later. (HTTP 429, TooManyRequests)",
            "throttled",
            "HTTP 429 TooManyRequests",
        ),
        (
            "x failed (HTTP 503, serviceNotAvailable)",
            "service_error",
            "HTTP 503 serviceNotAvailable",
        ),
        ("x failed (HTTP 418, Teapot)", "failed", "HTTP 418 Teapot"),
        (
            "token for x: the identity platform gave no usable answer (ConnectError)",
            "service_error",
            "no answer",
        ),
        ("something odd", "failed", "error"),
    ],
)
def test_each_answer_gets_its_cause_and_keeps_its_raw_code(
    error: str, kind: str, code: str
) -> None:
    cause = cause_of("failed", error)
    assert (cause.kind.value, cause.code) == (kind, code)
    assert cause.words


def test_a_scope_the_budget_did_not_reach_is_the_time_budget() -> None:
    cause = cause_of("not_attempted", "the run's time budget was spent")
    assert cause.kind is CauseKind.TIME_BUDGET


def test_the_description_puts_the_cause_before_the_code() -> None:
    cause = cause_of("failed", "... [AADSTS7000229]")
    assert cause.describe().startswith("consent missing: the app has no service principal")
    assert cause.describe().endswith("(AADSTS7000229)")


@pytest.mark.parametrize("kind", list(CauseKind))
def test_every_cause_has_a_step_that_names_who_and_where(kind: CauseKind) -> None:
    step = fix_for(kind, who="the partner's app", tenant="Contoso's tenant")
    assert step.endswith(".")
    assert "{" not in step


def test_what_means_no_consent_for_the_app_means_no_service_principal_for_a_carrier() -> None:
    cause = cause_of("failed", "... [AADSTS700016]")
    assert as_identity(cause, None) is cause
    assert as_identity(cause, "partner-app") is cause
    carrier = as_identity(cause, "ops")
    assert (carrier.kind, carrier.code) == (CauseKind.IDENTITY_MISSING, "AADSTS700016")
    expired = cause_of("failed", "... [AADSTS7000222]")
    assert as_identity(expired, "ops") is expired
