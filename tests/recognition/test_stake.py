"""Seats from paid SKUs only, stakes that keep their unit, and ranking that never weighs
dollars against users."""

from __future__ import annotations

from agent.recognition.model import SkuKind
from agent.recognition.stake import Stake, Unit, paid_seats, ranked
from connectors.records.licences import SubscribedSku
from tests.recognition.support import SKU_IDS, TENANT, book


def sku(part: str | None, units: int, sku_id: str | None = None) -> SubscribedSku:
    return SubscribedSku(
        customer_tenant_id=TENANT,
        sku_id=sku_id or SKU_IDS.get(part or "", "00000000-0000-4000-8000-00000000beef"),
        sku_part_number=part,
        enabled_units=units,
    )


def test_a_free_power_automate_sku_with_10000_units_adds_no_seat() -> None:
    count = paid_seats([sku("O365_BUSINESS_PREMIUM", 120), sku("FLOW_FREE", 10_000)], book().skus)

    assert count.seats("exchange") == 120
    assert count.seats("power_platform") == 0
    assert max(count.per_workload.values()) == 120
    assert count.excluded == {"FLOW_FREE": (SkuKind.FREE, 10_000)}


def test_paid_seats_add_up_per_workload_across_skus() -> None:
    count = paid_seats(
        [sku("O365_BUSINESS_PREMIUM", 20), sku("SPB", 30), sku("AAD_PREMIUM", 5)], book().skus
    )

    assert count.seats("exchange") == 50
    assert count.seats("intune") == 30
    assert count.seats("entra_id_premium") == 35


def test_a_sku_the_table_does_not_know_is_set_aside_not_counted() -> None:
    count = paid_seats([sku("CONTOSO_MADE_UP", 75)], book().skus)

    assert count.per_workload == {}
    assert count.unknown == {"CONTOSO_MADE_UP": 75}


def test_a_sku_is_recognised_by_its_guid_when_the_part_number_is_missing() -> None:
    count = paid_seats([sku(None, 40, SKU_IDS["O365_BUSINESS_PREMIUM"])], book().skus)

    assert count.seats("exchange") == 40


def test_trial_viral_and_developer_skus_add_no_seat() -> None:
    table = book().skus
    for part in ("TEAMS_EXPLORATORY", "POWERAPPS_VIRAL", "POWER_BI_STANDARD", "DEVELOPERPACK_E5"):
        entry = table.find(part, None)
        assert entry is not None and entry.kind is not SkuKind.PAID, part
        assert paid_seats([sku(part, 500, entry.sku_id)], table).per_workload == {}, part


def test_no_data_is_shown_as_such_never_as_zero() -> None:
    assert str(Stake.no_data(Unit.SEATS, "paid seats")) == "no data"
    assert str(Stake(Unit.SEATS, 0, None, "paid seats")) == "0 seats"
    assert str(Stake(Unit.MONEY, 1234.5, "EUR", "Azure revenue")) == "1,234.50 EUR"


def test_ranking_groups_by_unit_and_currency_and_puts_no_data_last() -> None:
    stakes = [
        Stake(Unit.MONEY, 900.0, "USD"),
        Stake(Unit.USERS, 5000.0),
        Stake.no_data(Unit.MONEY, "Azure revenue", "USD"),
        Stake(Unit.MONEY, 2000.0, "USD"),
        Stake(Unit.MONEY, 100_000.0, "JPY"),
        Stake(Unit.USERS, 12.0),
    ]

    groups = ranked(stakes)

    assert set(groups) == {(Unit.MONEY, "USD"), (Unit.MONEY, "JPY"), (Unit.USERS, None)}
    assert [s.value for s in groups[(Unit.MONEY, "USD")]] == [2000.0, 900.0, None]
    assert [s.value for s in groups[(Unit.USERS, None)]] == [5000.0, 12.0]
