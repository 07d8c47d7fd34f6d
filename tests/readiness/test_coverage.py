"""The readable share of the estate: what it counts, the floor, the summary line."""

from __future__ import annotations

from agent.readiness.coverage import ReadCoverage


def _estate() -> ReadCoverage:
    coverage = ReadCoverage()
    coverage.add(readable=True, subscriptions=2, readable_subscriptions=2, seats=30)
    coverage.add(readable=False, subscriptions=2, readable_subscriptions=1, seats=10)
    coverage.add(readable=False, subscriptions=0, readable_subscriptions=0, seats=0)
    return coverage


def test_a_customer_counts_its_seats_only_when_fully_readable() -> None:
    coverage = _estate()
    assert coverage.counts("customers") == (1, 3)
    assert coverage.counts("azure_subscriptions") == (3, 4)
    assert coverage.counts("seats") == (30, 40)
    assert coverage.percent("customers") == 33.3


def test_the_floor_names_the_figures_under_it() -> None:
    coverage = _estate()
    assert coverage.below(75.0) == ["customers"]
    assert coverage.below(33.3) == []
    assert coverage.below(100.0) == ["customers", "azure_subscriptions", "seats"]


def test_a_figure_with_nothing_to_count_is_never_below_the_floor() -> None:
    coverage = ReadCoverage()
    coverage.add(readable=True, subscriptions=0, readable_subscriptions=0, seats=0)
    assert coverage.below(100.0) == []
    assert coverage.line() == (
        "coverage: 1 of 1 customers (100.0 %), 0 of 0 Azure subscriptions (none known), "
        "0 of 0 seats (none known) fully readable"
    )


def test_the_figures_survive_the_round_trip_through_a_runs_stats() -> None:
    coverage = _estate()
    assert ReadCoverage.from_dict(coverage.as_dict()) == coverage
    assert ReadCoverage.from_dict({}) == ReadCoverage()
