"""Scenario facts in Microsoft's payload shapes (see tests/fixtures/microsoft), one module per API.

Pure functions: a scenario (plus the emulator's mutable PAL state) in, JSON-ready dicts out.
Optional facts the scenario leaves empty are omitted, as Microsoft omits them. This module holds
the value formats every API shares.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime
from functools import lru_cache

_NS = uuid.UUID("5f0c2a52-6a5e-4b8e-9d55-0d1f6f1e2a12")
_NS_BYTES = _NS.bytes


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
    """``uuid.uuid5(_NS, name)`` as text, computed once per name (answers derive many, again
    and again) and without building the ``UUID`` object on the way."""
    digest = bytearray(hashlib.sha1(_NS_BYTES + name.encode("utf-8")).digest()[:16])  # noqa: S324
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # the variant of RFC 4122
    text = digest.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"
