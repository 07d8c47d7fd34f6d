"""The report page's data block as its script reads it: interned cells looked up in the string
table, and each row's customer index resolved to the customer's name (appended last)."""

from __future__ import annotations

import json
import re
from typing import Any


def _decode(value: Any, strings: list[str]) -> Any:
    if isinstance(value, list):
        return [_decode(v, strings) for v in value]
    return None if value is None else strings[value]


def tables(page: str) -> dict[str, dict[str, Any]]:
    match = re.search(
        r'<script type="application/json" id="report-data">(.*?)</script>', page, re.S
    )
    assert match, "the page has no data block"
    data: dict[str, Any] = json.loads(match.group(1))
    strings = data.pop("strings")
    names = [row[0] for row in data["customers"]["rows"]]
    for table in data.values():
        for row in table["rows"]:
            for cell in table["interned"]:
                row[cell] = _decode(row[cell], strings)
            at = row[table["customer"]]
            row.append(names[at] if at >= 0 else "(partner)")
    return data
