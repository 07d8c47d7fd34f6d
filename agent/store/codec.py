"""Records to canonical JSON and back: the payload column of ``observation``.

Canonical (sorted keys, no spaces) so the payload hash changes only when a fact changes (guarantee
idempotent-sync).
"""

from __future__ import annotations

import hashlib
import json
from functools import cache
from typing import Any

from pydantic import TypeAdapter

from connectors.records.record import Record
from connectors.records.registry import RECORD_BY_KIND


@cache
def _adapter(kind: str) -> TypeAdapter[Any]:
    return TypeAdapter(RECORD_BY_KIND[kind])


def encode(record: Record) -> str:
    data = _adapter(record.KIND).dump_python(record, mode="json")
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def decode(kind: str, payload: str) -> Record:
    # pydantic parses the JSON itself: half the time of json.loads and then validating the
    # dictionaries (hundreds of thousands of records in a view of a large estate).
    record: Record = _adapter(kind).validate_json(payload)
    return record


def digest(payload: str) -> str:
    return hashlib.blake2b(payload.encode("utf-8"), digest_size=16).hexdigest()
