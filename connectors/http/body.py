"""Answers from Microsoft are read under a byte cap, on the wire and once decoded.

A body is streamed, never read whole on trust: a ``Content-Length`` over the cap fails before a
byte is read, the raw bytes are counted as they arrive (a lying ``Content-Length`` changes
nothing), and gzip/deflate are inflated in steps of :data:`STEP` bytes, each counted before the
next is made, so a small compressed answer that would expand to gigabytes is cut after the cap
plus one step. Over the cap the read fails as :class:`AnswerTooLarge`, a malformed answer: that
(source, scope) is marked failed and the run goes on.
"""

from __future__ import annotations

import io
import zlib
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from dataclasses import dataclass

import httpx

from connectors.errors import MalformedResponse
from connectors.http.answer import framing_removed

__all__ = [
    "ACCEPT_ENCODING",
    "DEFAULT_CAPS",
    "DEFAULT_MAX_BODY",
    "DEFAULT_MAX_DOWNLOAD",
    "STEP",
    "AnswerCaps",
    "AnswerTooLarge",
    "BodyMeter",
    "bounded_response",
    "read_body",
    "read_body_sync",
    "read_stream",
    "read_stream_sync",
    "size_text",
]

DEFAULT_MAX_BODY = 50_000_000
"""Cap of one JSON answer (a page, a token, an error): Microsoft's largest pages are a few MB."""
DEFAULT_MAX_DOWNLOAD = 500_000_000
"""Cap of one report download (a usage report, an insights CSV)."""
STEP = 64 * 1024
"""Most bytes one inflation step makes before the count is checked."""
ACCEPT_ENCODING = "gzip, deflate"
"""What the agent asks for: the encodings :class:`BodyMeter` inflates in bounded steps."""

_IDENTITY = frozenset({"", "identity"})


class AnswerTooLarge(MalformedResponse):
    """An answer over its cap, on the wire or decoded; nothing more of it is read."""


@dataclass(frozen=True, slots=True)
class AnswerCaps:
    """Byte caps of one requester's answers: ``page`` for API answers, ``download`` for
    pre-authenticated report downloads. Each bounds both the wire and the decoded size."""

    page: int = DEFAULT_MAX_BODY
    download: int = DEFAULT_MAX_DOWNLOAD

    def __post_init__(self) -> None:
        if self.page < 1 or self.download < 1:
            raise ValueError("answer caps must be positive byte counts")

    def cap(self, *, download: bool) -> int:
        return self.download if download else self.page


DEFAULT_CAPS = AnswerCaps()


def size_text(count: int) -> str:
    """``50000000`` -> ``50 MB``; small caps in KB or bytes (decimal units)."""
    for unit, scale in (("GB", 10**9), ("MB", 10**6), ("KB", 10**3)):
        if count >= scale:
            return f"{count / scale:.4g} {unit}"
    return f"{count} bytes"


class BodyMeter:
    """Counts one body's raw and decoded bytes against ``cap`` and inflates it in bounded steps.

    ``feed`` takes raw bytes as they arrive and yields decoded pieces of at most :data:`STEP`
    bytes; ``finish`` yields what the decoder still holds. Either raises
    :class:`AnswerTooLarge` the moment a count passes the cap.
    """

    def __init__(self, content_encoding: str | None, cap: int, what: str) -> None:
        self.cap = cap
        self.what = what
        self.raw = 0
        self.decoded = 0
        codings = [c.strip().lower() for c in (content_encoding or "").split(",")]
        codings = [c for c in codings if c not in _IDENTITY]
        if len(codings) > 1 or (codings and codings[0] not in ("gzip", "x-gzip", "deflate")):
            raise MalformedResponse(
                f"{what}: the answer is in an encoding the agent did not ask for "
                f"({', '.join(codings)[:60]})"
            )
        self._coding = codings[0] if codings else None
        self._inflater: zlib._Decompress | None = None
        if self._coding in ("gzip", "x-gzip"):
            self._inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
        elif self._coding == "deflate":
            self._inflater = zlib.decompressobj()  # zlib-wrapped first, raw deflate if not
        self._first = True

    def too_large(self, side: str) -> AnswerTooLarge:
        return AnswerTooLarge(f"{self.what}: answer over {size_text(self.cap)} ({side})")

    def check_declared(self, content_length: str | None) -> None:
        """A ``Content-Length`` over the cap fails before anything is read."""
        declared = (content_length or "").strip()
        if declared.isdigit() and int(declared) > self.cap:
            raise self.too_large("Content-Length")

    def feed(self, raw: bytes) -> Iterator[bytes]:
        self.raw += len(raw)
        if self.raw > self.cap:
            raise self.too_large("on the wire")
        if self._inflater is None:
            yield from self._count([raw])
            return
        yield from self._count(self._inflate(raw))

    def whole(self, raw: bytes) -> bytes:
        """A body that arrived whole, counted and decoded as :meth:`feed` and :meth:`finish`
        would (an identity body is handed back as it is)."""
        if self._inflater is None:
            self.raw += len(raw)
            self.decoded += len(raw)
            if self.raw > self.cap:
                raise self.too_large("on the wire")
            return raw
        out = io.BytesIO()
        for piece in self.feed(raw):
            out.write(piece)
        for piece in self.finish():
            out.write(piece)
        return out.getvalue()

    def finish(self) -> Iterator[bytes]:
        if self._inflater is not None:
            yield from self._count(self._inflate(b""))
            try:
                yield from self._count([self._inflater.flush()])
            except zlib.error:
                raise self._undecodable() from None

    def _count(self, pieces: Iterable[bytes]) -> Iterator[bytes]:
        for piece in pieces:
            self.decoded += len(piece)
            if self.decoded > self.cap:
                raise self.too_large("decoded")
            if piece:
                yield piece

    def _inflate(self, data: bytes) -> Iterator[bytes]:
        assert self._inflater is not None
        while True:
            try:
                piece = self._inflater.decompress(data, STEP)
            except zlib.error:
                if not (self._first and self._coding == "deflate"):
                    raise self._undecodable() from None
                # Some servers send raw deflate under "deflate": try that once, as httpx does.
                self._inflater = zlib.decompressobj(-zlib.MAX_WBITS)
                self._first = False
                continue
            self._first = False
            yield piece
            data = self._inflater.unconsumed_tail
            if not data and len(piece) < STEP:
                return

    def _undecodable(self) -> MalformedResponse:
        return MalformedResponse(f"{self.what}: the answer could not be decoded")


def _in_memory(response: httpx.Response, cap: int, what: str) -> bytes | None:
    """The body of an answer a transport handed over already read and decoded (as
    ``httpx.MockTransport`` does with a ready-made response): nothing to stream, but its size
    still counts. ``None`` for an answer still on the wire."""
    if not response.is_stream_consumed:
        return None
    body = response.content
    if len(body) > cap:
        raise AnswerTooLarge(f"{what}: answer over {size_text(cap)} (decoded)")
    return body


async def read_body(response: httpx.Response, cap: int, what: str) -> bytes:
    """The decoded body of a streamed ``response``, read under ``cap``. The caller closes
    the response (which cuts the stream when the cap was hit)."""
    meter = BodyMeter(response.headers.get("Content-Encoding"), cap, what)
    meter.check_declared(response.headers.get("Content-Length"))
    loaded = _in_memory(response, cap, what)
    if loaded is not None:
        return loaded
    raw: AsyncIterator[bytes] = response.aiter_raw()
    return await read_stream(meter, raw)


async def read_stream(meter: BodyMeter, raw: AsyncIterable[bytes]) -> bytes:
    """The decoded body of the raw pieces ``raw`` yields, counted by ``meter``."""
    body = io.BytesIO()  # getvalue() hands its buffer over: one copy of the body, not two
    async for chunk in raw:
        for piece in meter.feed(chunk):
            body.write(piece)
    for piece in meter.finish():
        body.write(piece)
    return body.getvalue()


def read_body_sync(response: httpx.Response, cap: int, what: str) -> bytes:
    """:func:`read_body` for a synchronous client (MSAL's token calls)."""
    meter = BodyMeter(response.headers.get("Content-Encoding"), cap, what)
    meter.check_declared(response.headers.get("Content-Length"))
    loaded = _in_memory(response, cap, what)
    if loaded is not None:
        return loaded
    return read_stream_sync(meter, response.iter_raw())


def read_stream_sync(meter: BodyMeter, raw: Iterable[bytes]) -> bytes:
    """:func:`read_stream` for a synchronous body."""
    body = io.BytesIO()
    for chunk in raw:
        for piece in meter.feed(chunk):
            body.write(piece)
    for piece in meter.finish():
        body.write(piece)
    return body.getvalue()


def bounded_response(response: httpx.Response, body: bytes) -> httpx.Response:
    """A read answer holding ``body`` (already decoded): status, headers (less the encoding
    and length of the wire form, as they came: a header in UTF-8 stays as it was), request and
    URL as ``response`` had them."""
    return httpx.Response(
        response.status_code,
        headers=framing_removed(response.headers.raw, body),
        content=body,
        request=response.request,
        extensions=response.extensions,
    )
