"""Readiness end to end: the real connectors, MSAL and the emulator over TLS, on a world whose
access is broken in each way readiness names (tests/readiness/estate.py). Every customer line
says why and what fixes it, and the coverage adds up."""

from __future__ import annotations

import pytest
from rich.console import Console

from agent.app import Agent
from agent.config import load_settings
from agent.readiness.estate import check_readiness
from agent.readiness.model import Check, Readiness, State
from agent.readiness.present import print_readiness
from tests.readiness.estate import C1, C2, C3, C4, C5, CARRIER, SUB, SUB4_NO_ROLE, write_estate


@pytest.fixture(scope="module")
def readiness(tmp_path_factory: pytest.TempPathFactory) -> Readiness:
    config = write_estate(tmp_path_factory.mktemp("estate"))
    with Agent(load_settings(config)) as agent:
        # Before any sync: Partner Center's usage names the subscriptions the app cannot see.
        return check_readiness(agent)


def _check(readiness: Readiness, tenant: str, reader: str) -> Check:
    customer = next(c for c in readiness.customers if c.tenant_id == tenant)
    return next(c for c in customer.checks if c.reader == reader)


def test_a_customer_in_good_order_reads_in_full(readiness: Readiness) -> None:
    alpine = next(c for c in readiness.customers if c.tenant_id == C1)
    assert alpine.readable
    assert {c.reader: c.state for c in alpine.checks} == {
        "partner_center": State.READABLE,
        "partner_center usage": State.READABLE,
        "graph": State.READABLE,
        "arm": State.READABLE,
        "pal as partner-app": State.READABLE,
        "gdap": State.READABLE,
    }
    assert alpine.seats == 10
    assert alpine.readable_subscriptions == (SUB[C1],)


def test_an_unconsented_tenant_says_consent_missing_with_the_code_and_the_fix(
    readiness: Readiness,
) -> None:
    for reader in ("graph", "arm", "pal as partner-app"):
        check = _check(readiness, C2, reader)
        assert check.state is State.BLOCKED, reader
        assert check.cause is not None and check.cause.value == "consent_missing"
        assert check.code == "AADSTS7000229"
        assert "consented in Birch's tenant" in check.fix
    assert _check(readiness, C2, "partner_center").state is State.READABLE


def test_a_tenant_short_of_a_graph_role_names_it_from_the_directory(readiness: Readiness) -> None:
    check = _check(readiness, C3, "graph")
    assert check.state is State.PARTIAL
    assert check.cause is not None and check.cause.value == "permission_missing"
    assert check.subjects == ("Reports.Read.All",)
    assert "graph.usage_reports" in check.words
    assert "admin consent again in Cedar's tenant" in check.fix


def test_a_subscription_without_an_azure_role_is_named_with_the_role_assignment_to_make(
    readiness: Readiness,
) -> None:
    check = _check(readiness, C4, "arm")
    assert check.state is State.PARTIAL
    assert check.cause is not None and check.cause.value == "no_azure_role"
    assert check.subjects == (SUB4_NO_ROLE,)
    assert check.code == "HTTP 403 AuthorizationFailed"
    assert "--role Reader" in check.fix and f"/subscriptions/{SUB4_NO_ROLE}" in check.fix
    dune = next(c for c in readiness.customers if c.tenant_id == C4)
    assert dune.subscriptions == tuple(sorted((SUB[C4], SUB4_NO_ROLE)))
    assert dune.readable_subscriptions == (SUB[C4],)


def test_a_deleted_carrier_is_named_deleted_in_the_partner_tenant_and_where_it_reads(
    readiness: Readiness,
) -> None:
    partner = next(c for c in readiness.partner if c.reader == f"carrier {CARRIER}")
    assert partner.cause is not None and partner.cause.value == "identity_deleted"
    check = _check(readiness, C5, f"pal as {CARRIER}")
    assert check.state is State.BLOCKED
    assert check.cause is not None and check.cause.value == "identity_deleted"
    assert "register it again" in check.fix
    assert all(
        c.reader != f"pal as {CARRIER}"
        for c in next(x for x in readiness.customers if x.tenant_id == C1).checks
    )


def test_an_ended_gdap_relationship_is_a_warning_that_does_not_block_reading(
    readiness: Readiness,
) -> None:
    check = _check(readiness, C5, "gdap")
    assert check.state is State.WARNING
    assert check.cause is not None and check.cause.value == "gdap_ended"
    assert "Admin relationships" in check.fix


def test_the_coverage_counts_customers_subscriptions_and_seats_fully_readable(
    readiness: Readiness,
) -> None:
    figures = readiness.coverage.as_dict()
    assert figures["customers"] == {"readable": 1, "total": 5, "percent": 20.0}
    assert figures["azure_subscriptions"] == {"readable": 3, "total": 6, "percent": 50.0}
    assert figures["seats"] == {"readable": 10, "total": 50, "percent": 20.0}
    assert readiness.below_floor() == ["customers", "azure_subscriptions", "seats"]
    assert not readiness.ok


def test_the_terminal_form_lists_each_cause_and_fix_and_ends_with_the_coverage(
    readiness: Readiness,
) -> None:
    console = Console(record=True, width=400)
    print_readiness(readiness, console)
    text = console.export_text()
    assert "customers not fully readable: 4 of 5" in text
    for words in ("consent missing", "permission missing", "no azure role", "identity deleted"):
        assert words in text
    assert "consent missing: 1 customer(s): Birch" in text
    lines = text.strip().splitlines()
    assert lines[-2] == (
        "coverage: 1 of 5 customers (20.0 %), 3 of 6 Azure subscriptions (50.0 %), "
        "10 of 50 seats (20.0 %) fully readable"
    )
    assert lines[-1] == "below the floor of 100 %: customers, Azure subscriptions, seats"
