"""The bearer tokens of the requests: one sign-in at a time per (tenant, resource, identity)
however many requests want it, and JWTs kept until shortly before they expire.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import time
from collections import OrderedDict

from connectors.base import TokenProvider

__all__ = ["TOKEN_CACHE_SIZE", "TOKEN_EXPIRY_MARGIN", "TokenCache", "jwt_expiry"]

TOKEN_EXPIRY_MARGIN = 300.0
"""Seconds before a cached token's ``exp`` at which the provider is asked again."""
TOKEN_CACHE_SIZE = 1024
"""Tokens kept by a requester (a few KB each): the tenants being read now, not the estate."""


def jwt_expiry(token: str) -> float | None:
    """The ``exp`` claim of a JWT (epoch seconds), read without verifying it: only to know
    how long to keep it. ``None`` for anything that is not a JWT with a numeric ``exp``."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, binascii.Error):
        return None
    exp = claims.get("exp") if isinstance(claims, dict) else None
    return float(exp) if isinstance(exp, int | float) and not isinstance(exp, bool) else None


class TokenCache:
    """The bearer tokens of a requester's requests, asked of ``tokens``.

    One sign-in at a time per (tenant, resource, identity), however many requests want it, and
    JWTs kept until :data:`TOKEN_EXPIRY_MARGIN` seconds before they expire. Without this, every
    request of a customer's sources hops to a thread and queues on the provider's per-tenant
    lock while its first sign-in runs.
    """

    def __init__(self, tokens: TokenProvider) -> None:
        self.tokens = tokens
        self._cache: OrderedDict[tuple[str, str, str | None], tuple[str, float]] = OrderedDict()
        self._pending: dict[tuple[str, str, str | None], asyncio.Future[str]] = {}

    async def token(
        self, tenant: str, resource: str, identity: str | None, force_refresh: bool
    ) -> str:
        """The token for (``tenant``, ``resource``, ``identity``); ``force_refresh`` drops the
        kept one and asks the provider for a fresh one."""
        key = (tenant, resource, identity)
        if force_refresh:
            self._cache.pop(key, None)
        else:
            cached = self._cache.get(key)
            if cached is not None and cached[1] > time.time() + TOKEN_EXPIRY_MARGIN:
                self._cache.move_to_end(key)
                return cached[0]
            pending = self._pending.get(key)
            if pending is not None:
                return await asyncio.shield(pending)
        task = asyncio.ensure_future(
            self.tokens.token(tenant, resource, identity=identity, force_refresh=force_refresh)
        )
        self._pending[key] = task
        try:
            token = await asyncio.shield(task)
        finally:
            if self._pending.get(key) is task:
                del self._pending[key]
        self._keep(key, token)
        return token

    def _keep(self, key: tuple[str, str, str | None], token: str) -> None:
        """Keep a JWT until it nears its expiry; the oldest go past :data:`TOKEN_CACHE_SIZE`."""
        expires = jwt_expiry(token)
        if expires is not None:
            self._cache[key] = (token, expires)
            self._cache.move_to_end(key)
            while len(self._cache) > TOKEN_CACHE_SIZE:
                self._cache.popitem(last=False)
