"""One request and one answer, as the emulator's endpoint code sees them.

Endpoint code raises :class:`Answer` to finish early (an error, a fault, a 429); the server
turns whatever comes back into bytes on the wire, including the misbehaviours faults ask for
(a connection closed without an answer, a body cut short).
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal
from urllib.parse import parse_qs

Action = Literal["send", "close", "cut"]


@dataclass
class Reply:
    """An HTTP answer. ``action``: ``close`` hangs up without answering (after holding the
    request), ``cut`` sends the headers and half the body, then hangs up."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str | None = "application/json; charset=utf-8"
    action: Action = "send"


class Answer(Exception):
    """Finish the request with ``reply``."""

    def __init__(self, reply: Reply) -> None:
        super().__init__(reply.status)
        self.reply = reply


def request_guid() -> str:
    """A random version-4 GUID, as Microsoft names a request: from ``random``, not the operating
    system (``uuid4`` asks it for every one, and gives up the interpreter to all the other
    connections' threads each time), and a request id need not be unguessable."""
    bits = random.getrandbits(128) & ~(0xF000 << 64) & ~(0xC000 << 48)
    text = f"{bits | (0x4000 << 64) | (0x8000 << 48):032x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


_ENCODER = json.JSONEncoder(separators=(",", ":"))
"""``json.dumps(body, separators=(",", ":"))``, made once (``dumps`` makes one per call)."""


def json_reply(status: int, body: Any, headers: dict[str, str] | None = None) -> Reply:
    return Reply(status, _ENCODER.encode(body).encode("utf-8"), dict(headers or {}))


@dataclass
class Request:
    """A parsed request."""

    method: str
    path: str
    raw_query: str
    headers: dict[str, str]
    body: bytes
    origin: str
    request_id: str = field(default_factory=request_guid)

    @property
    def query(self) -> dict[str, list[str]]:
        return dict(self._query)

    @cached_property
    def _query(self) -> dict[str, list[str]]:
        return parse_qs(self.raw_query, keep_blank_values=True)

    @cached_property
    def _args(self) -> dict[str, str]:
        """The first value of each parameter, by lower-cased name (the first such name wins)."""
        args: dict[str, str] = {}
        for key, values in self._query.items():
            if values:
                args.setdefault(key.lower(), values[0])
        return args

    def arg(self, name: str, default: str | None = None) -> str | None:
        """A query parameter, case-insensitively (Partner Center and OData are lenient)."""
        return self._args.get(name.lower(), default)

    def header(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name.lower(), default)

    def form(self) -> dict[str, str]:
        parsed = parse_qs(self.body.decode("utf-8", "replace"), keep_blank_values=True)
        return {k: v[0] for k, v in parsed.items() if v}

    def json(self) -> Any:
        try:
            return json.loads(self.body or b"null")
        except (ValueError, UnicodeDecodeError):
            return None
