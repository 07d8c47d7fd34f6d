"""An answer as the requester reads it: its status, its headers and its body, already read under
the cap (:mod:`connectors.http.body`), without an ``httpx.Response`` unless one is asked for.

Building an ``httpx.Response`` normalises every header of the answer (twice, as the capped copy
is a second response); a listing page needs only its status, two or three headers and its JSON.
:class:`RawHeaders` reads the headers as they came off the wire, as ``httpx.Headers`` would.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any, Protocol

import httpx

__all__ = ["Answer", "AnswerHeaders", "RawHeaders", "framing_removed"]


class AnswerHeaders(Protocol):
    """What the requester reads of an answer's headers: ``httpx.Headers`` or
    :class:`RawHeaders`."""

    @property
    def raw(self) -> list[tuple[bytes, bytes]]: ...

    def get(self, key: str, default: Any = None) -> Any: ...

    def __contains__(self, key: object) -> bool: ...


def _encoding(raw: list[tuple[bytes, bytes]]) -> str:
    """httpx's choice for decoding a set of headers: ASCII, else UTF-8, else Latin-1."""
    for encoding in ("ascii", "utf-8"):
        try:
            for name, value in raw:
                name.decode(encoding)
                value.decode(encoding)
        except UnicodeDecodeError:
            continue
        return encoding
    return "iso-8859-1"


class RawHeaders(Mapping[str, str]):
    """An answer's headers as (name, value) bytes from the wire, read as ``httpx.Headers``
    reads them: case-insensitive names, repeated headers joined with ``", "``."""

    __slots__ = ("_by_name", "raw")

    def __init__(self, raw: list[tuple[bytes, bytes]]) -> None:
        self.raw = raw
        self._by_name: dict[str, str] | None = None

    def _names(self) -> dict[str, str]:
        if self._by_name is None:
            encoding = _encoding(self.raw)
            by_name: dict[str, str] = {}
            for name, value in self.raw:
                key = name.decode(encoding).lower()
                text = value.decode(encoding)
                by_name[key] = f"{by_name[key]}, {text}" if key in by_name else text
            self._by_name = by_name
        return self._by_name

    def __getitem__(self, key: str) -> str:
        return self._names()[key.lower()]

    def get(self, key: str, default: Any = None) -> Any:
        return self._names().get(key.lower(), default)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and key.lower() in self._names()

    def __iter__(self) -> Iterator[str]:
        return iter(self._names())

    def __len__(self) -> int:
        return len(self._names())


_DROPPED = frozenset({b"content-encoding", b"content-length", b"transfer-encoding"})


def framing_removed(raw: list[tuple[bytes, bytes]], body: bytes) -> list[tuple[bytes, bytes]]:
    """An answer's headers for its body as read (decoded): those of its wire form's encoding
    and length left out unless they still hold (an identity body of the stated length)."""
    lengths = [value for name, value in raw if name.lower() == b"content-length"]
    framed = any(name.lower() in (b"content-encoding", b"transfer-encoding") for name, _v in raw)
    if not framed and lengths == [str(len(body)).encode("ascii")]:
        return raw
    return [(name, value) for name, value in raw if name.lower() not in _DROPPED]


class Answer:
    """One answer, read whole under its cap: ``status_code``, ``headers``, ``content`` and
    ``json()``, as ``httpx.Response`` names them (error mapping reads either)."""

    __slots__ = ("content", "headers", "method", "reason", "request_url", "response", "status_code")

    def __init__(
        self,
        status_code: int,
        headers: AnswerHeaders,
        content: bytes,
        *,
        method: str,
        request_url: str,
        reason: bytes = b"",
        response: httpx.Response | None = None,
    ) -> None:
        self.status_code = status_code
        self.headers = headers
        self.content = content
        self.method = method
        self.request_url = request_url
        """The URL the request went to, as the requester wrote it (its query included)."""
        self.reason = reason
        self.response = response
        """The ``httpx.Response`` it was read from, when it came through httpx."""

    @property
    def url(self) -> httpx.URL:
        """The request's URL as ``httpx.Response.url`` gives it (parsed only when asked)."""
        return httpx.URL(self.request_url)

    def json(self) -> Any:
        return json.loads(self.content)

    def as_response(self) -> httpx.Response:
        """The answer as an ``httpx.Response`` (for the callers that take one): its headers
        less the wire form's framing, its body, and the request's method and URL."""
        if self.response is not None:
            return self.response
        return httpx.Response(
            self.status_code,
            headers=framing_removed(self.headers.raw, self.content),
            content=self.content,
            request=httpx.Request(self.method, self.request_url),
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": self.reason},
        )
