"""Scenario facts in Microsoft's payload shapes (see tests/fixtures/microsoft), one module per API.

Pure functions: a scenario (plus the emulator's mutable PAL state) in, JSON-ready dicts out.
Optional facts the scenario leaves empty are omitted, as Microsoft omits them. This module holds
the value formats every API shares.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from functools import lru_cache

_NS = uuid.UUID("5f0c2a52-6a5e-4b8e-9d55-0d1f6f1e2a12")


def iso(when: datetime | None, *, fraction: bool = False) -> str | None:
    """UTC ``2024-02-10T11:24:42Z`` (or with 7 fractional digits, as Microsoft writes them)."""
    if when is None:
        return None
    return _iso(when.astimezone(UTC), fraction)


@lru_cache(maxsize=1 << 16)
def _iso(when: datetime, fraction: bool) -> str:
    """Formatted once per moment (in UTC, so equal moments are equal keys)."""
    if fraction:
        return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond:06d}0Z"
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def derived_id(*parts: str) -> str:
    return _derived_id("/".join(p.lower() for p in parts))


@lru_cache(maxsize=1 << 16)
def _derived_id(name: str) -> str:
    """The same id for the same name, computed once (answers derive many, again and again)."""
    return str(uuid.uuid5(_NS, name))
