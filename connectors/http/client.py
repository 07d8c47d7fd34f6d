"""The one HTTP client of the live connectors: TLS against the system store or a given CA, no
redirects followed, only the encodings the agent inflates in bounded steps, and a pool of
connections kept alive for a busy sync.
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Callable
from importlib import metadata

import httpx

from connectors.http.body import ACCEPT_ENCODING

__all__ = ["USER_AGENT", "ShardedTransport", "make_client"]


def _version() -> str:
    try:
        return metadata.version("partnerlink")
    except metadata.PackageNotFoundError:
        return "0"


USER_AGENT = f"partnerlink/{_version()}"


def make_client(
    ca_bundle: str | os.PathLike[str] | None = None,
    timeout: float | httpx.Timeout = 30.0,
    user_agent: str = USER_AGENT,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    connections: int = 64,
    wrap: Callable[[httpx.AsyncBaseTransport], httpx.AsyncBaseTransport] | None = None,
) -> httpx.AsyncClient:
    """The one ``httpx.AsyncClient`` of the live connectors.

    TLS verifies against the system store, or only against ``ca_bundle`` when given (the
    emulator's CA). Redirects are not followed: the only one we expect (a Graph report) must be
    followed *without* the Authorization header and only to a public https host, which
    :mod:`connectors.graph.reports` does itself through the requester. Only the encodings the
    agent inflates in bounded steps are asked for (:mod:`connectors.http.body`).
    Up to ``connections`` connections are opened and every one is kept alive: httpx keeps only
    20 by default, so a busier sync would pay a TLS handshake for most of its requests.
    ``wrap``, when given, wraps the transport (the local emulator's source hints).
    """
    context = (
        ssl.create_default_context(cafile=os.fspath(ca_bundle))
        if ca_bundle is not None
        else ssl.create_default_context()
    )
    inner = transport or ShardedTransport(context, connections)
    return httpx.AsyncClient(
        verify=context,
        timeout=timeout,
        headers={
            "User-Agent": user_agent,
            "Accept": "application/json",
            "Accept-Encoding": ACCEPT_ENCODING,
        },
        follow_redirects=False,
        transport=wrap(inner) if wrap is not None else inner,
    )


class ShardedTransport(httpx.AsyncBaseTransport):
    """Several small httpcore pools behind one transport; each request goes to the least busy.

    httpcore looks at every pooled connection (a ``poll`` and a ``getpeername`` per idle one) each
    time it assigns a request, so one pool of 64 connections costs more CPU than the requests
    themselves. Pools of :data:`SHARD_CONNECTIONS` keep that scan short. Every connection is
    kept alive (httpx keeps 20 by default: the rest would pay a TLS handshake per request).
    """

    SHARD_CONNECTIONS = 2

    def __init__(self, verify: ssl.SSLContext, connections: int = 64) -> None:
        per = self.SHARD_CONNECTIONS
        count = max(1, -(-connections // per))
        limits = httpx.Limits(max_connections=per, max_keepalive_connections=per)
        self._shards = [
            httpx.AsyncHTTPTransport(verify=verify, limits=limits) for _ in range(count)
        ]
        self._busy = [0] * count

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        index = min(range(len(self._shards)), key=self._busy.__getitem__)
        self._busy[index] += 1
        try:
            return await self._shards[index].handle_async_request(request)
        finally:
            self._busy[index] -= 1

    async def aclose(self) -> None:
        for shard in self._shards:
            await shard.aclose()
