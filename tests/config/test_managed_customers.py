"""The managed-customers CSV as spreadsheets write it: quoted line breaks, U+2028 in a name, a
byte order mark, CRLF, ``;`` lists; every error names the file, the line and the column, and the
config refuses a broken file when it loads."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.config import ConfigError, load_settings
from agent.expectations import ExpectationsError, load_managed_customers
from connectors.records.links import LinkKind

C1 = "c0000000-0000-4000-8000-000000000001"
C2 = "c0000000-0000-4000-8000-000000000002"
HEADER = "customer_tenant_id,name,workloads,expected_links,tags,owner\r\n"


def csv_file(tmp_path: Path, body: str, *, bom: bool = False) -> Path:
    path = tmp_path / "managed.csv"
    path.write_bytes(("\ufeff" if bom else "").encode() + body.encode("utf-8"))
    return path


def test_a_quoted_name_with_a_line_break_stays_one_customer(tmp_path: Path) -> None:
    path = csv_file(
        tmp_path, HEADER + f'{C1},"Alpine\r\nDairy",m365,cpor,,\r\n{C2},Birch,azure,pal,,\r\n'
    )

    customers = load_managed_customers(path)

    # one customer, not two; the name is cleaned as it enters (a line break reads as a space)
    assert [(c.tenant_id, c.name) for c in customers] == [(C1, "Alpine Dairy"), (C2, "Birch")]


def test_a_line_separator_inside_a_name_does_not_split_the_row(tmp_path: Path) -> None:
    path = csv_file(tmp_path, HEADER + f"{C1},Alpine\u2028Dairy,m365,cpor,,\r\n")

    [customer] = load_managed_customers(path)

    assert customer.name == "Alpine Dairy"
    assert customer.expected == (LinkKind.CPOR,)


def test_a_byte_order_mark_and_lists_with_spaces_are_read(tmp_path: Path) -> None:
    path = csv_file(
        tmp_path,
        HEADER + f'{C1},"Alpine, Dairy","azure; m365",pal ; gdap;,"dach;strategic",ops\r\n',
        bom=True,
    )

    [customer] = load_managed_customers(path)

    assert customer.name == "Alpine, Dairy"
    assert customer.workloads == ("azure", "m365")
    assert customer.expected == (LinkKind.PAL, LinkKind.GDAP)
    assert customer.tags == ("dach", "strategic")


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (f'{C1},"Alpine\nDairy",m365,cpor,,\n{C2},Birch,crm,cpor,,\n', ":4: workloads: 'crm'"),
        (
            f"{C1},Alpine\u2028Dairy,m365,cpor,,\nnot-a-guid,x,m365,cpor,,\n",
            ":3: customer_tenant_id:",
        ),
        (f"{C1},Alpine,m365,cpor;por,,\n", ":2: expected_links: 'por' is not one of"),
        (f"{C1},Alpine,m365,cpor,,,extra\n", ":2: 1 cell(s) past the last column"),
        (f'{C1},"Alpine,m365,cpor,,\n', ":2: not valid CSV"),
    ],
)
def test_each_error_names_the_file_the_line_and_the_column(
    tmp_path: Path, body: str, expected: str
) -> None:
    path = csv_file(tmp_path, HEADER.replace("\r\n", "\n") + body)

    with pytest.raises(ExpectationsError) as caught:
        load_managed_customers(path)

    assert str(caught.value).startswith(f"{path}{expected}"), str(caught.value)


def test_a_file_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    path = tmp_path / "managed.csv"
    path.write_bytes(HEADER.encode() + f"{C1},Caf\xe9,m365,cpor,,\n".encode("latin-1"))

    with pytest.raises(ExpectationsError) as caught:
        load_managed_customers(path)

    assert str(caught.value) == f"{path}: not UTF-8 text"


def test_the_config_refuses_a_broken_managed_customers_file_when_it_loads(tmp_path: Path) -> None:
    csv_file(tmp_path, HEADER + f"{C1},Alpine,m365,cpor,,\r\n{C2},Birch,crm,cpor,,\r\n")
    config = tmp_path / "p.toml"
    config.write_text('[expectations]\nmanaged_customers_file = "managed.csv"\n')

    with pytest.raises(ConfigError) as caught:
        load_settings(config)

    assert str(caught.value).startswith(
        f"{config}: expectations.managed_customers_file: {tmp_path / 'managed.csv'}:3: "
        "workloads: 'crm' is not one of"
    ), str(caught.value)
