"""Helpers of the live-connector tests: a token provider that counts, a virtual clock, JWTs."""

from __future__ import annotations

import asyncio
import base64
import json
import zlib
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from typing import Any, TypeVar

import httpx

from connectors.base import Connector
from connectors.endpoints import CloudEndpoints
from connectors.errors import AuthError
from connectors.records.record import Record

PARTNER = "7a11ce00-0000-4000-8000-000000000001"
CUSTOMER = "c0000000-0000-4000-8000-000000000001"
ENDPOINTS = CloudEndpoints.public()


def jwt_with(claims: dict[str, Any]) -> str:
    """An unsigned JWT-shaped token carrying ``claims`` (what an Entra access token looks like)."""

    def part(data: dict[str, Any]) -> str:
        raw = json.dumps(data).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}.c2lnbmF0dXJl"


class CountingTokens:
    """A token provider that hands out ``token-<n>`` (or a given JWT) and records each call."""

    def __init__(self, token: str | None = None, *, refuse: bool = False) -> None:
        self.calls: list[dict[str, Any]] = []
        self.fixed = token
        self.refuse = refuse

    async def token(
        self,
        tenant_id: str,
        resource: str,
        *,
        identity: str | None = None,
        force_refresh: bool = False,
    ) -> str:
        self.calls.append(
            {
                "tenant": tenant_id,
                "resource": resource,
                "identity": identity,
                "force_refresh": force_refresh,
            }
        )
        if self.refuse:
            raise AuthError("token request refused", aadsts="AADSTS7000215")
        return self.fixed or f"token-{len(self.calls)}"


class VirtualClock:
    """Monotonic time that only moves when someone sleeps: retries cost no wall time."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


Handler = Callable[[httpx.Request], httpx.Response]


class FakeDns:
    """A resolver for the download guard: ``names`` answer as given, every other name with a
    public address (tests have no DNS); ``asked`` records every lookup."""

    PUBLIC = "20.60.0.1"

    def __init__(self, names: dict[str, list[str]] | None = None) -> None:
        self.names = names or {}
        self.asked: list[str] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.asked.append(host)
        answer = self.names.get(host, [self.PUBLIC])
        if not answer:
            raise OSError("name does not resolve")
        return answer


R = TypeVar("R")


async def read_all(connector: Connector, tenant: str | None) -> list[Record]:
    """Every record one fetch yields."""
    return [record async for record in connector.fetch(tenant)]


def only(kind: type[R], records: Iterable[object]) -> list[R]:
    """``records`` typed as ``kind``; any other record fails the test."""
    typed: list[R] = []
    for record in records:
        assert isinstance(record, kind), f"{record!r} is not a {kind.__name__}"
        typed.append(record)
    return typed


class Drip(httpx.AsyncByteStream, httpx.SyncByteStream):
    """A response body made only as it is read: ``pulled`` counts the bytes handed to the
    reader, ``closed`` says whether the reader hung up. Nothing past what was read exists."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)
        self.pulled = 0
        self.closed = False

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._chunks:
            self.pulled += len(chunk)
            yield chunk

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self:
            yield chunk

    def close(self) -> None:
        self.closed = True

    async def aclose(self) -> None:
        self.closed = True


def zeros(total: int, chunk: int = 64 * 1024) -> Iterator[bytes]:
    """``total`` zero bytes, ``chunk`` at a time, made lazily."""
    for start in range(0, total, chunk):
        yield b"\0" * min(chunk, total - start)


def gzip_bomb(decoded: int, step: int = 1_000_000) -> Iterator[bytes]:
    """The gzip encoding of ``decoded`` zero bytes, compressed lazily as it is read: about a
    thousandth of its decoded size on the wire."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = b"\0" * step
    for start in range(0, decoded, step):
        out = packer.compress(block[: min(step, decoded - start)])
        if out:
            yield out
    yield packer.flush()
