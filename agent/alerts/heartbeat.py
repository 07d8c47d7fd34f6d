"""The dead man's switch (guarantee heartbeat), healthchecks.io style: ``<url>/start`` when a run
begins, then ``<url>`` for a complete run or ``<url>/fail`` for a partial or crashed one.

The heartbeat watches the agent, so it must never hurt it: a short timeout, a few retries, and
every failure is logged (without the URL, which is the credential) and swallowed. Each ping
opens and closes its own client, so pings work from separate ``asyncio.run`` calls.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from enum import StrEnum

import httpx
import structlog

from agent import logging as plog
from agent.alerts.config import AlertsConfig
from agent.alerts.errors import error_for_exception, error_for_response
from agent.alerts.sinks.base import url_secrets
from agent.alerts.urls import AsyncResolver, async_system_resolver, guarded_client

log = structlog.get_logger("partnerlink.alerts")

Sleep = Callable[[float], Awaitable[None]]


class Signal(StrEnum):
    START = "start"
    SUCCESS = "success"
    FAIL = "fail"


class Heartbeat:
    """Pings a healthchecks-style URL; every method returns whether the ping got through."""

    def __init__(
        self,
        url: str | None,
        *,
        allow_private: bool = False,
        timeout: float = 5.0,
        attempts: int = 3,
        backoff: float = 0.5,
        sleep: Sleep = asyncio.sleep,
        transport: httpx.AsyncBaseTransport | None = None,
        resolve: AsyncResolver = async_system_resolver,
    ) -> None:
        self.url = url.rstrip("/") if url else None
        self.allow_private = allow_private
        self.timeout = timeout
        self.attempts = max(1, attempts)
        self.backoff = backoff
        self.sleep = sleep
        self.transport = transport
        self.resolve = resolve
        self._secrets = tuple(url_secrets(self.url)) if self.url else ()
        plog.register_secrets(self._secrets)

    @classmethod
    def from_config(
        cls,
        config: AlertsConfig,
        *,
        sleep: Sleep = asyncio.sleep,
        transport: httpx.AsyncBaseTransport | None = None,
        resolve: AsyncResolver = async_system_resolver,
    ) -> Heartbeat:
        url = config.heartbeat_url.get_secret_value() if config.heartbeat_url else None
        return cls(
            url,
            allow_private=config.heartbeat_allow_private,
            sleep=sleep,
            transport=transport,
            resolve=resolve,
        )

    @property
    def enabled(self) -> bool:
        return self.url is not None

    async def start(self) -> bool:
        return await self.ping(Signal.START)

    async def success(self) -> bool:
        return await self.ping(Signal.SUCCESS)

    async def fail(self, detail: str | None = None) -> bool:
        return await self.ping(Signal.FAIL, detail)

    async def finish(self, complete: bool, detail: str | None = None) -> bool:
        """Success for a complete run; fail for a partial, failed or crashed one."""
        return await (self.success() if complete else self.fail(detail))

    def _target(self, signal: Signal) -> str:
        assert self.url is not None
        return self.url if signal is Signal.SUCCESS else f"{self.url}/{signal.value}"

    async def ping(self, signal: Signal, detail: str | None = None) -> bool:
        """Never raises (cancellation aside)."""
        if self.url is None:
            return False
        body = plog.scrub(detail or "")[:10_000].encode("utf-8")
        last = "no attempt"
        try:
            async with guarded_client(
                allow_private=self.allow_private,
                timeout=self.timeout,
                transport=self.transport,
                resolve=self.resolve,
            ) as client:
                for attempt in range(1, self.attempts + 1):
                    try:
                        response = await client.post(self._target(signal), content=body)
                    except httpx.HTTPError as exc:
                        error = error_for_exception(exc, secrets=self._secrets)
                    else:
                        found = error_for_response(response, secrets=self._secrets)
                        if found is None:
                            return True
                        error = found
                    last = error.message
                    if not error.retryable or attempt == self.attempts:
                        break
                    await self.sleep(self.backoff * 2 ** (attempt - 1))
        except Exception as exc:  # the heartbeat must never fail the sync (guarantee heartbeat)
            last = f"unexpected error ({type(exc).__name__})"
        log.warning("heartbeat_failed", signal=signal.value, error=last)
        return False
