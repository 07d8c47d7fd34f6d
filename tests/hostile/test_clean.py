"""Where names enter: ``clean`` and its counterpart ``visible``, the connectors' field readers
that apply it to every string from Microsoft, and the managed-customers file."""

from __future__ import annotations

from pathlib import Path

import pytest

from agent.expectations import load_managed_customers
from connectors.http.fields import name_text, text
from connectors.text import NAME_LIMIT, clean, visible


@pytest.mark.parametrize(
    ("raw", "cleaned"),
    [
        ("Wide\x1b[2J\x1b[31mWorld", "WideWorld"),
        ("\x1b]8;;http://evil\x1b\\click\x1b]8;;\x1b\\", "click"),
        ("\x1b]0;pwned title\x07Contoso", "Contoso"),
        ("Adatum\x9b31m\x85Corp", "Adatum Corp"),
        ("Invoice\u202egnp.exe", "Invoicegnp.exe"),
        ("\u2066Fabrikam\u2069", "Fabrikam"),
        ("Pay\u200bPal\u200d\ufeff", "PayPal"),
        ("Line\r\nBcc: x@y\tz", "Line Bcc: x@y z"),
        ("  many   spaces\u2028here ", "many spaces here"),
        ("Cafe\u0301", "Café"),
        ("lone \ud800 surrogate", "lone surrogate"),
        ("\x00\x07\x7f", ""),
        ("Contoso [/] Ltd", "Contoso [/] Ltd"),
        ("日本の会社 🏔️", "日本の会社 🏔️"),
    ],
)
def test_clean_keeps_what_a_person_reads_and_drops_the_rest(raw: str, cleaned: str) -> None:
    assert clean(raw) == cleaned


def test_clean_caps_a_long_name_with_an_ellipsis() -> None:
    long = clean("Long " * 400)
    assert len(long) == NAME_LIMIT and long.endswith("…")
    assert clean("x" * 5000, limit=None) == "x" * 5000


def test_visible_spells_out_every_invisible_character_and_keeps_the_rest() -> None:
    assert visible("a\x1b[2Jb") == "a\\x1b[2Jb"
    assert visible("Invoice\u202egnp") == "Invoice\\u202egnp"
    assert visible("x\r\ny\t") == "x\\r\\ny\\t"
    assert visible("x\ny", keep="\n") == "x\ny"
    assert visible("tag\U000e0041") == "tag\\U000e0041"
    assert visible("Café 🏔️ [/]") == "Café 🏔️ [/]"


def test_the_field_readers_clean_text_and_cap_names() -> None:
    assert text("  Contoso\x1b[2J\r\nLtd ") == "Contoso Ltd"
    assert text("\x1b[2J\u202e") is None, "nothing readable left: absent"
    assert text(42) == "42" and text(True) is None and text("   ") is None
    assert text("x" * 3000) == "x" * 3000, "a download link keeps its length"
    name = name_text("Long " * 400)
    assert name is not None and len(name) == NAME_LIMIT


def test_managed_customers_file_cleans_names_owners_and_tags(tmp_path: Path) -> None:
    path = tmp_path / "managed.csv"
    path.write_text(
        "customer_tenant_id,name,workloads,expected_links,tags,owner\n"
        'c0000000-0000-4000-8000-000000000001,"Evil\x1b[2J\tCorp",azure,pal,'
        '"de\u202ech;ops",team\x07\n',
        encoding="utf-8",
    )
    (managed,) = load_managed_customers(path)
    assert managed.name == "Evil Corp"
    assert managed.tags == ("dech", "ops")
    assert managed.owner == "team"
