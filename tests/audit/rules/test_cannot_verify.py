"""cannot_verify: the reads of a run that did not complete, one partner-level finding per reader
(Graph in the customer's tenant, ARM, a PAL read...) and cause across the estate, naming every
customer; the cause first, the sources and raw codes in evidence."""

from __future__ import annotations

from agent.audit.blind import blind_spots
from agent.audit.context import AuditContext
from agent.audit.model import Candidate, Severity
from agent.audit.rules import cannot_verify
from connectors.records.scope import Source

from .conftest import (
    CARRIER,
    TENANT,
    build_snapshot,
    evaluate,
    fingerprints,
    healthy_records,
    make_context,
)

RULE = cannot_verify.RULE
OTHER = "c0000000-0000-4000-8000-000000000002"
THIRD = "c0000000-0000-4000-8000-000000000003"
NAMES = {TENANT: "Alpine Dairy Co-op", OTHER: "Birch Logistics", THIRD: "Cedar Clinics"}
NO_SP = (
    "token for https://graph.microsoft.com in tenant {t} as partner-app refused: invalid_client "
    "(The client application a990 is missing service principal in the tenant {t}.) "
    "[AADSTS7000229] correlation id 1234"
)
NOT_FOUND_APP = (
    "token for https://management.azure.com in tenant {t} as partner-app refused: "
    "unauthorized_client (Application with identifier 'a990' was not found in the directory.) "
    "[AADSTS700016] correlation id 5678"
)
SKUS = Source.GRAPH_SKUS.value
PAL = Source.ARM_PAL.value


def _context(*failures: tuple[str, str, str, str]) -> AuditContext:
    return make_context(blind_spots=blind_spots(failures, NAMES))


def _partner(ctx: AuditContext) -> list[Candidate]:
    snapshot = build_snapshot([], ctx, tenant="", statuses={}, expectations=())
    return evaluate(RULE, snapshot, ctx)


def test_a_run_that_read_everything_gives_nothing() -> None:
    ctx = _context()
    assert _partner(ctx) == []
    assert evaluate(RULE, build_snapshot(healthy_records(), ctx), ctx) == []


def test_one_cause_and_source_across_customers_is_one_finding_naming_them_all() -> None:
    ctx = _context(
        (SKUS, TENANT, "failed", NO_SP.format(t=TENANT)),
        (SKUS, OTHER, "failed", NO_SP.format(t=OTHER)),
    )

    [cand] = _partner(ctx)

    assert cand.customer_tenant_id is None
    assert cand.link_id == "graph|consent_missing"
    assert cand.title.startswith("Consent missing (AADSTS7000229): cannot verify graph")
    assert "for 2 customers: Alpine Dairy Co-op, Birch Logistics" in cand.title
    assert cand.severity is None  # the rule's own (medium) severity
    assert cand.evidence["customers_total"] == 2
    assert [f["customer"] for f in cand.evidence["failures"]] == [TENANT, OTHER]
    assert {f["code"] for f in cand.evidence["failures"]} == {"AADSTS7000229"}
    assert cand.evidence["failures"][0]["error"] == NO_SP.format(t=TENANT)
    assert "no admin consent" in cand.remediation
    assert "consented" in cand.remediation


def test_different_codes_of_one_cause_share_a_finding_and_keep_their_codes() -> None:
    ctx = _context(
        (SKUS, TENANT, "failed", NO_SP.format(t=TENANT)),
        (SKUS, OTHER, "failed", NOT_FOUND_APP.format(t=OTHER)),
    )

    [cand] = _partner(ctx)

    assert cand.evidence["codes"] == ["AADSTS700016", "AADSTS7000229"]
    assert "(AADSTS700016, AADSTS7000229)" in cand.title
    assert {f["customer"]: f["code"] for f in cand.evidence["failures"]} == {
        TENANT: "AADSTS7000229",
        OTHER: "AADSTS700016",
    }


def test_the_sources_of_one_reader_share_a_finding_and_each_reader_and_cause_has_its_own() -> None:
    forbidden = f"arm.subscriptions for {THIRD} failed (HTTP 403, AuthorizationFailed)"
    ctx = _context(
        (SKUS, TENANT, "failed", NO_SP.format(t=TENANT)),
        (Source.GRAPH_USAGE.value, TENANT, "failed", NO_SP.format(t=TENANT)),
        (Source.ARM_SUBSCRIPTIONS.value, TENANT, "failed", NO_SP.format(t=TENANT)),
        (Source.ARM_SUBSCRIPTIONS.value, THIRD, "failed", forbidden),
    )

    found = {c.link_id: c for c in _partner(ctx)}

    assert set(found) == {"graph|consent_missing", "arm|consent_missing", "arm|no_azure_role"}
    graph = found["graph|consent_missing"]
    assert graph.evidence["sources"] == [SKUS, Source.GRAPH_USAGE.value]
    assert graph.evidence["customers_total"] == 1
    assert len(graph.evidence["failures"]) == 2
    assert f"({SKUS}, {Source.GRAPH_USAGE.value})" in graph.remediation
    role = found["arm|no_azure_role"]
    assert role.title.startswith("No azure role (HTTP 403 AuthorizationFailed): cannot verify arm")
    assert "Reader role" in role.remediation
    assert "Cedar Clinics" in role.title


def test_a_customer_snapshot_yields_nothing_even_when_its_reads_failed() -> None:
    ctx = _context((SKUS, TENANT, "failed", NO_SP.format(t=TENANT)))
    assert evaluate(RULE, build_snapshot(healthy_records(), ctx), ctx) == []


def test_a_partner_scope_failure_is_high_and_says_the_partner_tenant() -> None:
    down = "insights.attribution for partner failed (HTTP 500)"
    ctx = _context((Source.INSIGHTS.value, "partner", "failed", down))

    [cand] = _partner(ctx)

    assert cand.severity is Severity.HIGH
    assert cand.title == "Service error (HTTP 500): cannot verify insights for the partner tenant"
    assert cand.evidence["partner"] is True
    assert cand.evidence["failures"][0]["customer"] is None


def test_a_carrier_read_names_the_carrier_in_the_source_and_the_step() -> None:
    disabled = "token ... refused: unauthorized_client (Application is disabled.) [AADSTS7000112]"
    ctx = _context((PAL, f"{TENANT}/{CARRIER}", "failed", disabled))

    [cand] = _partner(ctx)

    assert cand.subject == f"identity disabled: pal as {CARRIER}"
    assert f"carrier {CARRIER}" in cand.remediation
    assert "Alpine Dairy Co-op's tenant" in cand.remediation


def test_partner_center_codes_are_named_in_plain_words() -> None:
    gone = (
        f"partner_center.subscriptions for {TENANT} failed: No relationship between caller and "
        "account. (HTTP 403, 20002)"
    )
    ctx = _context((Source.PC_SUBSCRIPTIONS.value, TENANT, "failed", gone))

    [cand] = _partner(ctx)

    assert cand.title.startswith("Relationship ended (Partner Center 20002)")
    assert cand.remediation.startswith("The partner has no relationship with this customer")


def test_customers_not_reached_in_time_are_one_time_budget_finding() -> None:
    ctx = _context(
        (Source.GRAPH_USAGE.value, TENANT, "not_attempted", "the run's time budget was spent"),
        (Source.GRAPH_USAGE.value, OTHER, "not_attempted", "the run's time budget was spent"),
    )

    [cand] = _partner(ctx)

    assert cand.link_id == "graph|time_budget"
    assert "sync.time_budget" in cand.remediation


def test_the_title_leads_with_the_cause_whatever_the_customers_are_called() -> None:
    long_names = dict.fromkeys(NAMES, "N" * 400)
    ctx = make_context(
        blind_spots=blind_spots([(SKUS, t, "failed", NO_SP.format(t=t)) for t in NAMES], long_names)
    )

    [cand] = _partner(ctx)

    assert cand.title[:250].startswith("Consent missing (AADSTS7000229)")
    assert "for 3 customers" in cand.title[:250]


def test_many_customers_are_counted_in_the_title_and_listed_in_the_evidence() -> None:
    tenants = [f"c0000000-0000-4000-8000-{n:012d}" for n in range(12)]
    ctx = make_context(
        blind_spots=blind_spots([(SKUS, t, "failed", NO_SP.format(t=t)) for t in tenants], {})
    )

    [cand] = _partner(ctx)

    assert "for 12 customers" in cand.title
    assert cand.title.endswith("and 7 more")
    assert len(cand.evidence["failures"]) == 12


def test_fingerprint_is_stable_while_the_customers_it_names_change() -> None:
    one = _context((SKUS, TENANT, "failed", NO_SP.format(t=TENANT)))
    two = _context(
        (SKUS, TENANT, "failed", NO_SP.format(t=TENANT)),
        (SKUS, OTHER, "failed", NO_SP.format(t=OTHER)),
    )
    assert fingerprints(_partner(one), one) == fingerprints(_partner(two), two)


def test_rule_has_no_source_gate_because_it_reports_failed_sources() -> None:
    assert RULE.meta.id == "cannot_verify"
    assert RULE.meta.required_sources == ()


def test_a_carrier_missing_from_a_tenant_is_not_consent_missing() -> None:
    refused = "token ... refused: unauthorized_client (not found in the directory) [AADSTS700016]"
    ctx = _context(
        (PAL, f"{TENANT}/{CARRIER}", "failed", refused),
        (PAL, f"{OTHER}/partner-app", "failed", refused),
    )

    found = {c.link_id: c for c in _partner(ctx)}

    assert set(found) == {
        f"pal as {CARRIER}|identity_missing",
        "pal as partner-app|consent_missing",
    }
    carrier = found[f"pal as {CARRIER}|identity_missing"]
    assert carrier.title.startswith("Identity missing (AADSTS700016)")
    assert f"Create carrier {CARRIER}'s service principal" in carrier.remediation
