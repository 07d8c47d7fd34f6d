"""The credit view over the store: a small estate synced through the fake connectors and
audited, then judged customer by customer as the audit judges it; its documented order; its
filters; and nothing to show before the first sync."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from agent.app import Agent
from agent.config import load_settings
from agent.recognition.credit import CreditLine, Reason
from agent.recognition.holdings import Whose
from agent.recognition.stake import Stake, Unit
from agent.recognition.view import CreditRow, NothingToShow, rank_key
from tests.conftest import Clock
from tests.recognition.estate import ELSEWHERE, write_estate
from tests.worlds import C1, C2


@pytest.fixture
def agent(tmp_path: Path, clock: Clock) -> Iterator[Agent]:
    config = write_estate(tmp_path)
    with Agent(load_settings(config), clock=clock) as agent:
        agent.cycle()
        yield agent


def test_licences_sold_by_another_partner_show_that_partner_as_holder(agent: Agent) -> None:
    rows = agent.credit()

    smb = next(
        r
        for r in rows
        if r.line.rule_id == "modern-work-net-customer-adds-smb" and r.customer_tenant_id == C1
    )
    assert smb.customer_name == "Cobalt Legal LLP"
    assert (smb.line.counts_for_us, smb.line.reason) == (False, Reason.OTHER_TRANSACTING_PARTNER)
    assert smb.line.holder is not None and smb.line.holder.whose is Whose.OTHER
    assert smb.line.holder.holder == ELSEWHERE
    data = smb.as_dict()
    assert (data["stake"], data["stake_unit"], data["stake_value"]) == ("140 seats", "seats", 140)
    assert data["whose"] == "other" and data["holder_kind"] == "csp"
    assert data["remedy_kind"] == "cpor" and "partner ID 4100002" in data["remedy"]
    assert data["sources"] and all(url.startswith("https://") for url in data["sources"])
    ours = next(
        r
        for r in rows
        if r.line.rule_id == "modern-work-net-customer-adds-smb" and r.customer_tenant_id == C2
    )
    assert ours.line.counts_for_us is True and ours.as_dict()["remedy"] is None


def test_the_audit_raises_the_finding_the_view_explains(agent: Agent) -> None:
    [finding] = agent.store.findings(rules=["recognition_held_by_other"])

    assert finding.customer_tenant_id == C1
    assert finding.status == "open"
    assert ELSEWHERE in finding.title


def test_a_stake_without_data_says_so_and_is_never_zero(agent: Agent) -> None:
    # App-only: Partner Center's usage is not read, so Azure revenue is unknown.
    azure = [r for r in agent.credit([C2]) if r.line.rule_id == "azure-net-customer-adds"]

    assert azure
    for row in azure:
        assert row.as_dict()["stake"] == "no data"
        assert row.as_dict()["stake_value"] is None
        assert row.line.counts_for_us is None


def test_rows_are_ranked_lost_first_then_within_one_unit_only(agent: Agent) -> None:
    rows = agent.credit()
    order = {False: 0, None: 1, True: 2}

    assert [order[r.line.counts_for_us] for r in rows] == sorted(
        order[r.line.counts_for_us] for r in rows
    )
    for before, after in itertools.pairwise(rows):
        a, b = before.line.stake, after.line.stake
        same_group = before.line.counts_for_us == after.line.counts_for_us
        if same_group and a.known and b.known and a.kind == b.kind:
            assert (a.value or 0) >= (b.value or 0)
        if same_group:
            assert a.known or not b.known, "no data comes after known stakes"


def _row(counts: bool | None, stake: Stake, name: str = "x") -> CreditRow:
    line = CreditLine(
        customer_tenant_id="t",
        solution_area="modern_work",
        metric="net_customer_adds",
        track="smb",
        rule_id="r",
        holder=None,
        counts_for_us=counts,
        reason=Reason.NO_ASSOCIATION,
        words="w",
        stake=stake,
        remedy=None,
    )
    return CreditRow("t", name, line)


def test_dollars_are_never_weighed_against_users_or_seats() -> None:
    ten_dollars = _row(False, Stake(Unit.MONEY, 10.0, "USD"))
    many_users = _row(False, Stake(Unit.USERS, 10_000.0))
    many_seats = _row(False, Stake(Unit.SEATS, 50_000.0))
    euros = _row(False, Stake(Unit.MONEY, 5.0, "EUR"))
    unknown = _row(False, Stake.no_data(Unit.MONEY, "revenue", "USD"))
    counted = _row(True, Stake(Unit.MONEY, 1e9, "USD"))
    more_dollars = _row(False, Stake(Unit.MONEY, 20.0, "USD"))

    rows = [counted, unknown, many_seats, many_users, ten_dollars, euros, more_dollars]
    ranked = sorted(rows, key=rank_key)

    assert ranked == [euros, more_dollars, ten_dollars, many_users, many_seats, unknown, counted]


def test_filters_by_customer_area_and_not_counting(agent: Agent) -> None:
    assert {r.customer_tenant_id for r in agent.credit([C2])} == {C2}
    assert {r.line.solution_area for r in agent.credit(areas=["security"])} == {"security"}
    lost = agent.credit(not_counting=True)
    assert lost and all(r.line.counts_for_us is False for r in lost)
    assert len(lost) < len(agent.credit())


def test_nothing_to_show_before_the_first_sync(tmp_path: Path, clock: Clock) -> None:
    with Agent(load_settings(write_estate(tmp_path)), clock=clock) as agent:
        with pytest.raises(NothingToShow, match="run `partnerlink sync`"):
            agent.credit()


def test_a_failed_seat_read_leaves_the_holder_known_and_the_stake_without_data(
    tmp_path: Path, clock: Clock
) -> None:
    faults = [{"source": "graph.subscribed_skus", "scope": C1, "status": 403}]
    with Agent(load_settings(write_estate(tmp_path, faults=faults)), clock=clock) as agent:
        agent.cycle()
        rows = [
            r for r in agent.credit([C1]) if r.line.rule_id == "modern-work-net-customer-adds-smb"
        ]

    [row] = rows
    # The licence owner was read: the holder is known; the seats were not: no figure.
    assert row.line.reason is Reason.OTHER_TRANSACTING_PARTNER
    assert row.as_dict()["stake"] == "no data"
