"""Readers of payload fields: lenient ones for optional fields (``None`` for anything
unreadable), a loud one for required fields, and every string cleaned on the way in.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from connectors.errors import MalformedResponse
from connectors.text import NAME_LIMIT, TEXT_LIMIT, clean

__all__ = [
    "flag",
    "guid",
    "integer",
    "name_text",
    "nested",
    "number",
    "required",
    "text",
    "timestamp",
]


_GUID_RE = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)


def nested(item: Mapping[str, Any], *path: str) -> Any:
    """``item[a][b]...`` or ``None`` where any step is missing or not an object."""
    value: Any = item
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def text(value: Any, limit: int = TEXT_LIMIT) -> str | None:
    """A non-empty string (numbers are spelled out); ``None`` otherwise. Strings are cleaned
    (:func:`connectors.text.clean`): no control character or escape sequence gets past here."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return clean(value, limit) or None
    return None


def name_text(value: Any) -> str | None:
    """A display name (customer, domain, offer, relationship, subscription): :func:`text`,
    capped at :data:`connectors.text.NAME_LIMIT` characters."""
    return text(value, NAME_LIMIT)


def integer(value: Any) -> int | None:
    """An integer from a number or a digit string; ``None`` otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        cleaned = value.strip().replace(",", "")
        if re.fullmatch(r"-?\d+(\.0+)?", cleaned):
            return int(float(cleaned))
    return None


def number(value: Any) -> float | None:
    """A finite float from a number or a numeric string; ``None`` otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, str):
        try:
            parsed = float(value.strip().replace(",", ""))
        except ValueError:
            return None
        return parsed if math.isfinite(parsed) else None
    return None


def flag(value: Any) -> bool | None:
    """A JSON boolean, or ``"true"``/``"false"``; ``None`` otherwise."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def timestamp(value: Any) -> datetime | None:
    """An aware datetime from ISO 8601 (naive ones are UTC); ``None`` for anything unreadable,
    such as the documented ``"2015-11-25T06: 41: 12Z"``."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("z", "Z"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def guid(value: Any) -> str | None:
    """A lower-cased GUID; ``None`` for placeholders such as ``"<guid>"``."""
    if isinstance(value, str) and _GUID_RE.match(value.strip()):
        return value.strip().lower()
    return None


def required(item: Mapping[str, Any], *path: str, what: str) -> str:
    """A required string field; its absence makes the answer :class:`MalformedResponse`."""
    value = text(nested(item, *path))
    if value is None:
        raise MalformedResponse(f"{what}: an item has no '{'.'.join(path)}'")
    return value
