"""`partnerlink credit` as a person and a script use it: the table, JSON and CSV of one small
estate (licences sold by another partner's tenant), its filters, and clear refusals; on a
larger estate, the summary, every line with ``--all``, and the lines of one customer."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from agent.aligned import LARGE_TABLE
from agent.recognition.present import CSV_FIELDS
from tests.cli.test_cli import partnerlink
from tests.recognition.estate import ELSEWHERE, write_estate, write_world
from tests.worlds import C1, C2


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = write_estate(tmp_path_factory.mktemp("credit"))
    done = partnerlink("--config", str(path), "cycle")
    assert done.returncode == 0, done.stderr
    return str(path)


def credit(config: str, *args: str) -> list[dict[str, object]]:
    done = partnerlink("--config", config, "credit", "--format", "json", *args)
    assert done.returncode == 0, done.stderr
    rows: list[dict[str, object]] = json.loads(done.stdout)
    return rows


def test_table_shows_holder_reason_stake_and_remedy(config: str) -> None:
    done = partnerlink("--config", config, "credit", "--customer", C1)

    assert done.returncode == 0, done.stderr
    text = " ".join(done.stdout.split())
    assert "credit view: " in text and "Cobalt Legal LLP" in text
    assert "other transacting partner" in text and "140 seats" in text
    assert ELSEWHERE[:8] + "…" in text, "another partner's tenant, shortened"
    assert "file a CPOR claim (OSU)" in text
    wide = partnerlink("--config", config, "credit", "--customer", C1, "--wide")
    assert ELSEWHERE in wide.stdout.replace(" ", "").replace("\n", ""), "--wide: in full"
    assert "Traceback" not in done.stderr


def test_json_and_csv_carry_the_same_rows(config: str) -> None:
    rows = credit(config)
    done = partnerlink("--config", config, "credit", "--format", "csv")

    table = list(csv.DictReader(io.StringIO(done.stdout)))
    assert done.returncode == 0, done.stderr
    assert tuple(table[0]) == CSV_FIELDS
    assert [(r["customer_tenant_id"], r["rule_id"], r["solution_area"]) for r in table] == [
        (r["customer_tenant_id"], r["rule_id"], r["solution_area"]) for r in rows
    ]
    lost = next(r for r in rows if r["reason"] == "other_transacting_partner")
    assert (lost["holder"], lost["whose"], lost["counts_for_us"]) == (ELSEWHERE, "other", False)
    assert rows[0]["counts_for_us"] is False, "what we lose comes first"


def test_filters_by_customer_name_area_and_not_counting(config: str) -> None:
    assert {r["customer_tenant_id"] for r in credit(config, "--customer", "Delta Foods")} == {C2}
    assert {r["solution_area"] for r in credit(config, "--area", "Modern_Work")} == {"modern_work"}
    lost = credit(config, "--not-counting")
    assert lost and {r["counts_for_us"] for r in lost} == {False}


def test_an_unknown_area_is_refused_with_the_known_ones(config: str) -> None:
    done = partnerlink("--config", config, "credit", "--area", "gaming")

    assert done.returncode == 2
    assert "--area: unknown value 'gaming'" in done.stderr
    for area in ("modern_work", "security", "business_applications", "data_ai"):
        assert area in done.stderr
    assert "Traceback" not in done.stderr


def test_an_unknown_format_is_refused(config: str) -> None:
    done = partnerlink("--config", config, "credit", "--format", "xml")

    assert done.returncode == 2
    assert "--format: expected table, json or csv" in done.stderr


def test_before_any_sync_says_what_to_run(tmp_path: Path) -> None:
    done = partnerlink("--config", str(write_estate(tmp_path)), "credit")

    assert done.returncode == 4
    assert "no finished sync run yet: run `partnerlink sync`" in done.stderr


def test_explain_shows_the_recognition_rule_and_its_sources(config: str) -> None:
    listed = partnerlink(
        "--config", config, "findings", "--rule", "recognition_held_by_other", "-f", "json"
    )
    [finding] = json.loads(listed.stdout)

    done = partnerlink("--config", config, "explain", finding["fingerprint"][:12])

    assert done.returncode == 0, done.stderr
    text = " ".join(done.stdout.split())
    assert "recognition rule modern-work-net-customer-adds-smb" in text
    assert "counts: CPOR (OSU), CSP" in text
    assert "source: " in text and "https://" in text


@pytest.fixture(scope="module")
def estate(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A generated estate of 40 customers, synced and audited: hundreds of credit lines."""
    path = write_world(tmp_path_factory.mktemp("estate"), "40")
    done = partnerlink("--config", str(path), "cycle")
    assert done.returncode in (0, 3), done.stderr  # 3: some reads failed, as generated
    return str(path)


def test_a_large_view_is_summed_and_says_how_to_see_its_lines(estate: str) -> None:
    rows = credit(estate)
    assert len(rows) > LARGE_TABLE

    done = partnerlink("--config", estate, "credit")

    assert done.returncode == 0, done.stderr
    text = " ".join(done.stdout.split())
    customers = len({r["customer_tenant_id"] for r in rows})
    assert f"credit view: {len(rows):,} lines of {customers:,} customers, summed" in text
    lost = [r for r in rows if r["counts_for_us"] is False]
    assert f"does not count {len(lost):,} " in text
    assert "by reason and metric" in text and "customers that lose the most" in text
    assert str(lost[0]["customer_name"]) in text
    assert "--all (every line)" in text and "--format csv or json" in text
    assert len(done.stdout.splitlines()) < 150, "a summary, not the lines"


def test_all_lists_every_line_and_a_customer_narrows_to_its_table(estate: str) -> None:
    rows = credit(estate)

    every = partnerlink("--config", estate, "credit", "--all")
    one = partnerlink(
        "--config", estate, "credit", "--customer", str(rows[0]["customer_tenant_id"])
    )

    assert every.returncode == 0, every.stderr
    assert f"credit view ({len(rows)} line(s))" in every.stdout
    assert len(every.stdout.splitlines()) == len(rows) + 3, "title, header, rule, the lines"
    assert one.returncode == 0, one.stderr
    assert "credit view: " in one.stdout and "summed" not in one.stdout
