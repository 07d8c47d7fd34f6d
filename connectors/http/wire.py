"""HTTP/1.1 on the wire, as :mod:`connectors.http.transport` speaks it: a request's head written,
an answer's head parsed, its body framed (``Content-Length``, chunked, or until the close).

Strict where a lenient reading could be exploited: a header name or value with CR, LF or NUL is
refused before anything is sent (a continuation token from an answer cannot inject a header),
an answer's head is capped at :data:`MAX_HEAD`, conflicting ``Content-Length`` values, a
``Transfer-Encoding`` that does not end in ``chunked`` and folded header lines are protocol
errors. Nothing here waits or touches a socket: the transport hands it bytes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

import httpx

from connectors.http.target import Target

__all__ = ["MAX_HEAD", "ChunkedBody", "Head", "WireRequest", "parse_head", "request_head"]

MAX_HEAD = 64 * 1024
"""Most bytes an answer's status line and headers may take."""

_HEX = b"0123456789abcdefABCDEF"
_NAME = re.compile(rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
"""RFC 9110's token: what a header name is made of."""
_VALUE = re.compile(rb"[^\x00\r\n]*")
"""A header value: anything but NUL, CR and LF (which would end the header and start another)."""


def _checked(name: bytes, value: bytes, request: httpx.Request | None) -> None:
    if _NAME.fullmatch(name) is None or _VALUE.fullmatch(value) is None:
        raise httpx.LocalProtocolError("a request header is not well formed", request=request)


@lru_cache(maxsize=1024)
def _line(name: str, value: str) -> bytes:
    """One header line of a request, checked: the same few headers (and a tenant's token)
    go out again and again, so each is encoded and checked once."""
    raw_name, raw_value = name.encode("ascii"), value.encode("ascii")
    _checked(raw_name, raw_value, None)
    return b"%s: %s\r\n" % (raw_name, raw_value)


_WRITES = frozenset({"POST", "PUT", "PATCH"})
_FRAMED = frozenset({"content-length", "transfer-encoding"})


@dataclass(slots=True)
class WireRequest:
    """One request as the connectors' transports send it without an ``httpx.Request``: what
    httpx would put on the wire for it (``Host`` first, a ``Content-Length: 0`` for a write
    without one, then ``headers`` in order, then ``body``, whose length ``headers`` states),
    its timeouts, and the source it is made for (a wrapper may read it; it never goes on the
    wire as such)."""

    method: str
    url: str
    target: Target
    headers: list[tuple[str, str]]
    timeouts: Mapping[str, float | None]
    source: str | None = None
    body: bytes = b""

    def head(self) -> bytes:
        """The request line and headers, each header checked as :func:`request_head` does
        (a non-ASCII one fails as it does in httpx)."""
        lines = [self.method.encode("ascii"), b" ", self.target.target, b" HTTP/1.1\r\nHost: "]
        lines += (self.target.netloc, b"\r\n")
        if self.method in _WRITES and not any(n.lower() in _FRAMED for n, _v in self.headers):
            lines.append(b"Content-Length: 0\r\n")
        lines += [_line(name, value) for name, value in self.headers]
        lines.append(b"\r\n")
        return b"".join(lines)


def request_head(request: httpx.Request) -> tuple[bytes, bool]:
    """The request line and headers of ``request`` (httpx has set ``Host`` and the body's
    framing headers already), and whether its body goes chunked."""
    url = request.url
    lines = [request.method.encode("ascii"), b" ", url.raw_path, b" HTTP/1.1\r\n"]
    chunked = False
    for name, value in request.headers.raw:
        _checked(name, value, request)
        lines += (name, b": ", value, b"\r\n")
        if len(name) == 17 and name.lower() == b"transfer-encoding":
            chunked = value.strip().lower() == b"chunked"
    lines.append(b"\r\n")
    return b"".join(lines), chunked


@dataclass(slots=True)
class Head:
    """An answer's status line and headers, and how its body is framed."""

    status: int
    reason: bytes
    headers: list[tuple[bytes, bytes]]
    length: int | None
    """Body bytes by ``Content-Length``; ``None`` when chunked or until the close."""
    chunked: bool
    keep_alive: bool
    encoding: bytes | None = None
    """The ``Content-Encoding`` header (repeated ones joined with ``", "``), if any."""
    declared: bytes | None = None
    """The ``Content-Length`` header as it came (repeated ones joined), if any."""


@dataclass(slots=True)
class _Framing:
    length: int | None = None
    chunked: bool = False
    close: bool = False
    encodings: list[bytes] | None = None
    lengths: list[bytes] | None = None


def _framing(headers: list[tuple[bytes, bytes]], request: httpx.Request | None) -> _Framing:
    """How the body is framed, whether the connection stays open, and the headers that say
    how the body is encoded and how long it claims to be."""
    found = _Framing()
    for name, value in headers:
        lowered = name.lower()
        if lowered == b"content-length":
            text = value.strip()
            if not text.isdigit() or (found.length is not None and int(text) != found.length):
                raise httpx.RemoteProtocolError("invalid Content-Length", request=request)
            found.length = int(text)
            found.lengths = [*(found.lengths or ()), value]
        elif lowered == b"transfer-encoding":
            codings = [c.strip().lower() for c in value.split(b",") if c.strip()]
            if not codings or codings[-1] != b"chunked":
                raise httpx.RemoteProtocolError("unsupported Transfer-Encoding", request=request)
            found.chunked = True
        elif lowered == b"connection":
            found.close = found.close or b"close" in value.lower()
        elif lowered == b"content-encoding":
            found.encodings = [*(found.encodings or ()), value]
    return found


def parse_head(raw: bytes, method: str, request: httpx.Request | None = None) -> Head:
    """The :class:`Head` of an answer to a ``method`` request whose head (up to, not
    including, the blank line) is ``raw``; errors name ``request`` when there is one."""
    lines = raw.split(b"\r\n")
    parts = lines[0].split(b" ", 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
        raise httpx.RemoteProtocolError("malformed status line", request=request)
    status = int(parts[1])
    headers: list[tuple[bytes, bytes]] = []
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        if not colon or not name or name != name.strip() or line[:1] in (b" ", b"\t"):
            raise httpx.RemoteProtocolError("malformed header line", request=request)
        headers.append((name, value.strip(b" \t")))
    found = _framing(headers, request)
    length = None if found.chunked else found.length
    chunked, keep_alive = found.chunked, not found.close
    if parts[0] == b"HTTP/1.0":
        keep_alive = False
    if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
        length, chunked = 0, False
    elif length is None and not chunked:
        keep_alive = False  # the body runs until the server closes
    return Head(
        status,
        parts[2] if len(parts) > 2 else b"",
        headers,
        length,
        chunked,
        keep_alive,
        b", ".join(found.encodings) if found.encodings else None,
        b", ".join(found.lengths) if found.lengths else None,
    )


class ChunkedBody:
    """Decodes a chunked body from the bytes it is fed; ``done`` once the last chunk and the
    trailers are in. ``feed`` returns the data it could decode and how many bytes it used."""

    def __init__(self, request: httpx.Request | None) -> None:
        self.request = request
        self.remaining = 0  # data bytes left in the current chunk
        self.crlf = False  # the CRLF after a chunk's data is due
        self.trailers = False
        self.done = False

    def _error(self, what: str) -> httpx.RemoteProtocolError:
        return httpx.RemoteProtocolError(f"malformed chunked body: {what}", request=self.request)

    def feed(self, data: bytes | bytearray) -> tuple[bytes, int]:
        out: list[bytes] = []
        at = 0
        while at < len(data) and not self.done:
            if self.remaining:
                take = min(self.remaining, len(data) - at)
                out.append(bytes(data[at : at + take]))
                at += take
                self.remaining -= take
                self.crlf = self.remaining == 0
                continue
            end = data.find(b"\r\n", at)
            if end < 0:
                if len(data) - at > 4096:
                    raise self._error("a chunk line is too long")
                break
            line = bytes(data[at:end])
            at = end + 2
            if self.crlf:
                if line:
                    raise self._error("no CRLF after a chunk")
                self.crlf = False
            elif self.trailers:
                self.done = not line
            else:
                size = line.split(b";", 1)[0].strip(b" \t")
                if not size or size.strip(_HEX) or len(size) > 16:
                    raise self._error("a chunk size is not hexadecimal")
                self.remaining = int(size, 16)
                self.trailers = self.remaining == 0
        return b"".join(out), at
