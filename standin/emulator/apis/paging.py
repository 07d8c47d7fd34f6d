"""The page window every listing shares: its size, capped at the source's page size, and its
continuation token (an opaque offset that a client cannot forge into a valid one by accident).
"""

from __future__ import annotations

import base64
import binascii
import json

from connectors.records.scope import Source
from connectors.sources import source_row
from standin.emulator.errors import error
from standin.emulator.routing import Call
from standin.emulator.wire import Answer


def encode_token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset}).encode()).decode().rstrip("=")


def decode_token(token: str) -> int | None:
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    offset = data.get("o") if isinstance(data, dict) else None
    return offset if isinstance(offset, int) and offset >= 0 else None


def window(call: Call, source: Source, size_arg: str | None, token: str | None) -> tuple[int, int]:
    """(offset, size) of the page asked for; 400 for a bad size or an invalid token."""
    limit = source_row(source).page_size
    size = limit
    if size_arg:
        try:
            asked = int(size_arg)
        except ValueError:
            raise Answer(error(call, 400, f"invalid page size {size_arg!r}")) from None
        if asked > 0:
            size = min(asked, limit)
    offset = 0
    if token:
        decoded = decode_token(token)
        if decoded is None:
            raise Answer(
                error(
                    call,
                    400,
                    "The continuation token is expired or not valid.",
                    "InvalidSkipToken" if call.api in ("arm", "graph") else 400,
                )
            )
        offset = decoded
    return offset, size
