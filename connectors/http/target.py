"""Where a request goes, read from its URL exactly as httpx reads it, at a fraction of the cost.

httpx parses every URL character by character in Python (about 30 µs for a Graph URL with a
filter: a tenth of a request's CPU). The URLs the connectors send are plain: an https origin, a
path and a query of printable ASCII that httpx leaves as it is. For those the origin is parsed
once (by httpx, and kept), the rest is taken by one regular expression; any other URL (an
unusual character, a fragment, user-info, dot segments) goes through httpx's own parse, so what
goes on the wire is the same either way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import httpx

__all__ = ["Target", "target_of"]

_MAX_URL = 65_536
"""httpx's own limit: a longer URL is refused (by httpx's parse)."""
_ORIGINS = 256
"""Origins kept parsed: the handful of Microsoft hosts, and download hosts."""


def _chars(excluded: str) -> str:
    """A character class of printable ASCII less ``excluded``: what httpx keeps as it is in a
    path (or a query) without escaping it, ``%`` included (httpx keeps a lone one too)."""
    return (
        "[" + "".join(re.escape(chr(c)) for c in range(0x21, 0x7F) if chr(c) not in excluded) + "]"
    )


_PATH = _chars('"#<>?`{}')
_QUERY = _chars('"#<>')
_PLAIN = re.compile(rf"(https?://[^/?#@\s]+)(/{_PATH}*)(?:\?({_QUERY}*))?")


@dataclass(frozen=True, slots=True)
class Target:
    """A request's destination as httpx's transport sees it: the origin to connect to, the
    ``Host`` header and the request target (path and query) of the request line."""

    scheme: str
    host: str
    port: int | None
    """``None`` for the scheme's default port, as httpx has it."""
    netloc: bytes
    target: bytes

    @property
    def address(self) -> tuple[str, str, int]:
        """(scheme, host, port) with the port spelled out: a connection pool's key."""
        return (self.scheme, self.host, self.port or (443 if self.scheme == "https" else 80))


_origins: dict[str, tuple[str, str, int | None, bytes]] = {}


def _origin(origin: str) -> tuple[str, str, int | None, bytes] | None:
    """httpx's reading of ``scheme://authority``, parsed once; ``None`` if httpx would not
    take it as a plain origin."""
    known = _origins.get(origin)
    if known is not None:
        return known
    try:
        url = httpx.URL(origin + "/")
    except httpx.InvalidURL:
        return None
    if url.userinfo or url.raw_path != b"/" or not url.host:
        return None
    parsed = (url.scheme, url.host, url.port, url.netloc)
    if len(_origins) >= _ORIGINS:
        _origins.clear()
    _origins[origin] = parsed
    return parsed


def _dot_segments(path: str) -> bool:
    """Whether a path has a ``.`` or ``..`` segment, which httpx would resolve."""
    if "/." not in path:
        return False
    ended = path + "/"
    return "/./" in ended or "/../" in ended


def target_of(url: str) -> Target:
    """The :class:`Target` of ``url``, as ``httpx.URL(url)`` reads it (raising its
    ``InvalidURL`` for what it refuses)."""
    plain = _PLAIN.fullmatch(url) if len(url) <= _MAX_URL else None
    if plain is not None:
        origin = _origin(plain.group(1))
        path = plain.group(2)
        if origin is not None and not _dot_segments(path):
            query = plain.group(3)
            raw = path if query is None else f"{path}?{query}"
            return Target(origin[0], origin[1], origin[2], origin[3], raw.encode("ascii"))
    parsed = httpx.URL(url)
    return Target(parsed.scheme, parsed.host, parsed.port, parsed.netloc, parsed.raw_path)
