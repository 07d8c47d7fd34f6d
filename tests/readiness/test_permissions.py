"""Graph permissions needed against those granted: a broader read covers a narrower one, a
write role is more than needed."""

from __future__ import annotations

from agent.readiness.permissions import CUSTOMER_NEEDS, PARTNER_NEEDS, excess, missing, roles_of


def test_the_read_only_default_leaves_nothing_missing_anywhere() -> None:
    granted = frozenset(
        {
            "Directory.Read.All",
            "DelegatedAdminRelationship.Read.All",
            "Organization.Read.All",
            "Reports.Read.All",
            "Application.Read.All",
        }
    )
    assert missing(granted, PARTNER_NEEDS) == {}
    assert missing(granted, CUSTOMER_NEEDS) == {}
    assert excess(granted) == []


def test_directory_read_covers_organization_and_application_read_but_not_reports() -> None:
    short = missing(frozenset({"Directory.Read.All"}), CUSTOMER_NEEDS)
    assert short == {"graph.usage_reports": ["Reports.Read.All"]}
    assert roles_of(short) == ["Reports.Read.All"]


def test_nothing_granted_leaves_every_source_short() -> None:
    short = missing(frozenset(), CUSTOMER_NEEDS)
    assert set(short) == set(CUSTOMER_NEEDS)


def test_write_roles_are_more_than_a_read_only_agent_needs() -> None:
    granted = frozenset({"Directory.ReadWrite.All", "Reports.Read.All"})
    assert missing(granted, {"graph.contracts": ("Directory.Read.All",)}) == {}
    assert excess(granted) == ["Directory.ReadWrite.All"]
