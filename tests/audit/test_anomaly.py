"""The mass-disappearance guard's counting (guarantee mass-loss-guard): what a first pass counts per link kind, when a
share is an anomaly, and when a source that returned nothing is one."""

from __future__ import annotations

from datetime import timedelta

from agent.audit.anomaly import MIN_LINKS, Anomaly, AnomalyScope, LinkTally, source_anomalies
from agent.store.values import LinkState
from tests.audit.rules.conftest import NOW, RUN

STARTED = NOW - timedelta(minutes=30)


def _state(
    n: int,
    *,
    kind: str = "pal",
    missing: int = 0,
    counted: int | None = None,
    first_seen: timedelta = timedelta(days=-30),
) -> LinkState:
    return LinkState(
        key=f"{kind}|{n}",
        kind=kind,
        customer_tenant_id=f"c{n}",
        workload="azure:s",
        holder="4100002",
        ref="partner-app",
        source="arm.pal",
        first_seen_at=NOW + first_seen,
        last_seen_at=NOW - timedelta(days=1),
        last_seen_run_id=RUN - 1,
        missing_runs=missing,
        last_counted_run_id=counted,
    )


def _tally(*states: LinkState) -> LinkTally:
    tally = LinkTally()
    tally.add(states, RUN, STARTED)
    return tally


def test_vanished_this_run_counts_as_known_and_vanished() -> None:
    tally = _tally(_state(1, missing=1, counted=RUN), _state(2), _state(3))

    assert (tally.known["pal"], tally.vanished["pal"]) == (3, 1)


def test_links_new_this_run_and_links_gone_earlier_are_not_known_before() -> None:
    tally = _tally(
        _state(1, first_seen=timedelta(0)),  # first seen by this very audit
        _state(2, missing=2, counted=RUN),  # was already gone last run
        _state(3, missing=1, counted=RUN - 1),  # gone last run, not judged now
    )

    assert (tally.known["pal"], tally.vanished["pal"]) == (0, 0)


def test_more_than_the_share_of_enough_links_is_an_anomaly() -> None:
    gone = [_state(n, missing=1, counted=RUN) for n in range(20)]
    kept = [_state(n) for n in range(20, 25)]

    [anomaly] = _tally(*gone, *kept).anomalies(20.0)

    assert anomaly == Anomaly(AnomalyScope.LINK_KIND, "pal", known=25, gone=20)
    assert anomaly.describe() == "20 of 25 PAL links (80 %) vanished in one run"
    assert anomaly.touches("pal", "insights.attribution")
    assert not anomaly.touches("cpor", "insights.attribution")


def test_exactly_the_share_is_not_an_anomaly_and_one_link_of_five_never_is() -> None:
    one_of_five = [_state(0, missing=1, counted=RUN), *(_state(n) for n in range(1, 5))]

    assert _tally(*one_of_five).anomalies(20.0) == []


def test_small_kinds_are_ordinary_whatever_the_share() -> None:
    few = [_state(n, missing=1, counted=RUN) for n in range(MIN_LINKS - 1)]

    assert _tally(*few).anomalies(20.0) == []
    assert _tally(*few).anomalies(20.0, min_links=2) != []


def test_kinds_are_judged_apart() -> None:
    pal = [_state(n, missing=1, counted=RUN) for n in range(3)] + [_state(n) for n in range(3, 10)]
    cpor = [_state(n, kind="cpor") for n in range(10)]

    [anomaly] = _tally(*pal, *cpor).anomalies(20.0)

    assert (anomaly.name, anomaly.known, anomaly.gone) == ("pal", 10, 3)


def test_a_source_that_returned_items_and_now_returns_none_is_an_anomaly() -> None:
    found = source_anomalies(
        {"arm.pal": (12, 0), "graph.gdap": (3, 2), "insights.attribution": (0, 0)}
    )

    assert found == [Anomaly(AnomalyScope.SOURCE, "arm.pal", known=12, gone=12)]
    assert found[0].describe() == (
        "arm.pal returned nothing this run after 12 item(s) in the previous run"
    )
    assert found[0].touches("pal", "arm.pal")


def test_an_empty_identities_read_makes_pal_disappearances_doubtful_too() -> None:
    [anomaly] = source_anomalies({"graph.identities": (4, 0)})

    assert anomaly.touches("pal", "arm.pal")
    assert not anomaly.touches("gdap", "graph.gdap")
