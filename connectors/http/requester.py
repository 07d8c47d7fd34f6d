"""The requester: every call to Microsoft goes through it, and it is the one place for tokens,
error mapping, retries and throttling.

It adds the bearer token (refreshed once on a 401), maps every non-success answer to its
connector error (:mod:`connectors.http.decode`), retries transient failures per
:class:`~connectors.retry_after.RetryPolicy` honouring ``Retry-After`` and waits on the
:class:`~connectors.http.gate.ScopeGate`, which pauses a whole throttling scope after a 429 and
spaces ARM calls when the remaining budget runs low. Every answer is streamed under a byte cap
(:mod:`connectors.http.body`), and a download link is followed only to a public https host
(:mod:`connectors.destinations`). Logs never carry a token, a query string or an unescaped API
string (:mod:`connectors.http.redact`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import structlog

from connectors.base import TokenProvider
from connectors.destinations import DownloadGuard
from connectors.errors import (
    ConnectorError,
    MalformedResponse,
    PermanentError,
    ThrottledError,
    TransientError,
)
from connectors.http.answer import Answer
from connectors.http.body import DEFAULT_CAPS, AnswerCaps
from connectors.http.decode import error_of, json_object
from connectors.http.fetch import Fetcher
from connectors.http.gate import DEFAULT_BUDGET, BudgetSpacing, ScopeGate, remaining_budget
from connectors.http.observer import NO_OBSERVER, RequestObserver, api_of
from connectors.http.redact import escape, loggable_url, sanitise
from connectors.http.request import ApiRequest
from connectors.http.slots import PrioritySlots
from connectors.http.tokens import TokenCache
from connectors.http.tries import Tries
from connectors.ratelimit import MicrosoftLimits, Ticket
from connectors.retry_after import DEFAULT_RETRY, RetryPolicy
from connectors.timing import Clock, Sleep

__all__ = ["Requester"]

log = structlog.get_logger()


_DEBUG_BY_WRAPPER: dict[object, bool] = {}


def _debugging() -> bool:
    """Whether a debug line would be written: the per-request line is not even built when not
    (its URL is taken apart to leave the query string out). Asked of the logger once per
    configured logger class, not per request (binding a logger costs microseconds)."""
    wrapper = structlog.get_config().get("wrapper_class")
    known = _DEBUG_BY_WRAPPER.get(wrapper)
    if known is None:
        enabled = getattr(log, "is_enabled_for", None)
        known = bool(enabled(logging.DEBUG)) if enabled is not None else True
        _DEBUG_BY_WRAPPER[wrapper] = known
    return known


def _log_no_answer(event: str, request: ApiRequest, attempt: int, exc: httpx.HTTPError) -> None:
    log.info(
        event,
        scope=request.scope,
        method=request.method,
        url=loggable_url(request.url),
        attempt=attempt,
        kind=type(exc).__name__,
    )


class Requester:
    """Sends each :class:`ApiRequest`: tokens, error mapping, retries and throttling in one place.

    One instance is shared by every live connector of a process, so that a scope paused by one
    worker is paused for all of them (guarantee retry-after). ``observer`` hears of every try and
    every throttling wait (timed on ``clock``), for the agent's metrics. Every answer is read under
    ``caps`` (:mod:`connectors.http.body`); a pre-authenticated download goes only where
    ``downloads`` allows.
    """

    def __init__(
        self,
        client: httpx.AsyncClient,
        tokens: TokenProvider,
        *,
        retry: RetryPolicy = DEFAULT_RETRY,
        gate: ScopeGate | None = None,
        sleep: Sleep = asyncio.sleep,
        budget: BudgetSpacing = DEFAULT_BUDGET,
        rng: random.Random | None = None,
        limits: MicrosoftLimits | None = None,
        max_in_flight: int | None = None,
        observer: RequestObserver = NO_OBSERVER,
        clock: Clock = time.monotonic,
        caps: AnswerCaps = DEFAULT_CAPS,
        downloads: DownloadGuard | None = None,
    ) -> None:
        self.client = client
        self.tokens = tokens
        self.retry = retry
        self.gate = gate if gate is not None else ScopeGate(sleep=sleep)
        self.budget = budget
        self.limits = limits
        self.max_in_flight = max_in_flight
        self.observer = observer
        self.caps = caps
        self.downloads = downloads if downloads is not None else DownloadGuard()
        self._clock = clock
        self._sleep = sleep
        self._rng = rng
        self._flight: PrioritySlots | None = None
        self._tokens = TokenCache(tokens)
        self._fetcher = Fetcher(client)
        self.sent = 0
        """Requests that left (every try counts): the benchmark's request count."""

    async def _admit(self, request: ApiRequest, api: str) -> Ticket | None:
        """Wait for the scope's gate (a Retry-After pause, ARM spacing) and for room in every
        throttling scope the request is counted in; the ticket holds that room. Every wait is
        told to the observer."""
        while True:
            if self.gate.delay(request.scope) > 0:
                why = "retry_after" if self.gate.paused(request.scope) else "spacing"
                started = self._clock()
                await self.gate.acquire(request.scope)
                self.observer.waited(api, self._clock() - started, why)
            else:
                await self.gate.acquire(request.scope)  # free now: returns without waiting
            if self.limits is None:
                return None
            # The limits count the requests that had to wait; on one event loop the count
            # moves during this call only if this request waited (it never yields otherwise).
            waits, started = self.limits.waits, self._clock()
            ticket = await self.limits.acquire(request)
            if self.limits.waits != waits:
                self.observer.waited(api, self._clock() - started, "budget")
            if self.gate.delay(request.scope) <= 0:
                return ticket
            ticket.release()  # a 429 paused the scope while we waited for room: wait again

    @contextlib.asynccontextmanager
    async def _slot(self, urgent: bool) -> AsyncIterator[None]:
        """One of the ``max_in_flight`` places on the wire; a request of a budget that paces
        the sync is served first (:mod:`connectors.http.slots`)."""
        if self.max_in_flight is None:
            yield
            return
        if self._flight is None:
            self._flight = PrioritySlots(self.max_in_flight)
        await self._flight.acquire(urgent)
        try:
            yield
        finally:
            self._flight.release()

    async def send(self, request: ApiRequest) -> httpx.Response:
        """The answer to ``request`` (status below 400), or the error it ended with."""
        return (await self.answer(request)).as_response()

    async def answer(self, request: ApiRequest) -> Answer:
        """:meth:`send`'s answer as the requester read it (status, headers, body, URL),
        without an ``httpx.Response``."""
        tries = Tries.of(request)
        api = api_of(request.scope)
        if request.pre_authenticated:
            await self._check_download(request)
        while True:
            tries.attempt += 1
            outcome, resendable, token = await self._try(request, tries, api)
            if isinstance(outcome, Answer):
                if outcome.status_code != 401:
                    return outcome
                # The token may have been revoked or rotated under us: one fresh token,
                # then a 401 is an answer (guarantee proven-absence: "cannot verify"), not a retry
                # case.
                tries.refreshed = tries.force_refresh = True
                tries.attempt -= 1
                log.info("http_token_refresh", scope=request.scope, what=escape(request.what))
                continue
            tries.force_refresh = False
            await self._retry_or_raise(
                request, sanitise(outcome, token), resendable, tries.attempt, api
            )

    async def _try(
        self, request: ApiRequest, tries: Tries, api: str
    ) -> tuple[Answer | ConnectorError, bool, str | None]:
        """One try, once the gate and the limits admit it: its outcome, whether the request may
        be sent again, and the token it carried (to be kept out of the error)."""
        ticket = await self._admit(request, api)
        headers = tries.headers(request)
        token: str | None = None
        try:
            if request.authenticated and request.tenant_id and request.resource:
                token = await self._tokens.token(
                    request.tenant_id, request.resource, request.identity, tries.force_refresh
                )
                headers["Authorization"] = f"Bearer {token}"
            async with self._slot(ticket is not None and ticket.urgent):
                self.sent += 1
                outcome, resendable = await self._exchange(
                    request,
                    headers,
                    tries.attempt,
                    api,
                    refreshable=request.authenticated and not tries.refreshed,
                )
        finally:
            if ticket is not None:
                ticket.release()  # stamped when the answer arrived (or the try failed)
        return outcome, resendable, token

    async def _retry_or_raise(
        self, request: ApiRequest, error: ConnectorError, resendable: bool, attempt: int, api: str
    ) -> None:
        """Wait before the next try of a failed one, or raise ``error`` when there is none: it
        is not retryable, the request may not go again, or the policy's tries are used up."""
        throttled = isinstance(error, ThrottledError)
        retry_after = error.retry_after if isinstance(error, TransientError) else None
        delay = (
            self.retry.delay(attempt, retry_after)
            if retry_after is not None
            else (self.retry.backoff(attempt, self._rng))
        )
        if throttled:
            # The scope is throttled, not just this request: everyone of it waits (guarantee
            # retry-after).
            self.gate.block(request.scope, delay)
        if not (error.retryable and resendable and self.retry.allows(attempt, throttled=throttled)):
            if error.retryable:
                log.warning(
                    "http_gave_up",
                    scope=request.scope,
                    what=escape(request.what),
                    attempts=attempt,
                    error=error.kind,
                    status=error.status,
                    code=escape(error.code) if error.code else None,
                )
            raise error
        log.info(
            "http_retry",
            scope=request.scope,
            what=escape(request.what),
            attempt=attempt,
            delay=round(delay, 3),
            status=error.status,
            code=escape(error.code) if error.code else None,
            throttled=throttled,
        )
        if not throttled:
            await self._sleep(delay)
            if retry_after is not None:  # the server's word; plain backoff is no throttling
                self.observer.waited(api, delay, "retry_after")

    async def _check_download(self, request: ApiRequest) -> None:
        """A download link goes nowhere but a public https host: nothing is sent otherwise."""
        try:
            await self.downloads.check(request.url, request.what)
        except ConnectorError as exc:
            log.warning(
                "http_download_refused",
                scope=request.scope,
                what=escape(request.what),
                error=exc.kind,
            )
            raise sanitise(exc) from None

    async def _exchange(
        self,
        request: ApiRequest,
        headers: dict[str, str],
        attempt: int,
        api: str,
        *,
        refreshable: bool,
    ) -> tuple[Answer | ConnectorError, bool]:
        """One try: the answer (status < 400, or a 401 while ``refreshable``) or the error, and
        whether the request may be sent again. The observer hears of every try."""
        started = time.monotonic()
        cap = self.caps.cap(download=request.pre_authenticated)
        try:
            response = await self._fetcher.fetch(request, headers, cap)
        except (httpx.HTTPError, MalformedResponse) as exc:
            return self._no_answer(request, exc, attempt, api)
        status = response.status_code
        self.observer.request_done(api, status)
        if _debugging():
            log.debug(
                "http_request",
                scope=request.scope,
                method=request.method,
                url=loggable_url(request.url),
                status=status,
                attempt=attempt,
                elapsed_ms=round((time.monotonic() - started) * 1000, 1),
            )
        remaining = remaining_budget(request.method.upper(), response.headers)
        if remaining is not None:
            self.gate.set_spacing(request.scope, self.budget.spacing(remaining))
        if status < 400 or (status == 401 and refreshable):
            return response, False
        error = error_of(request, response)
        # POST/PATCH: a 429 or 503 was refused before any work; anything else may have acted.
        resendable = request.safe_to_resend or status in (429, 503)
        return error, resendable

    def _no_answer(
        self, request: ApiRequest, exc: httpx.HTTPError | MalformedResponse, attempt: int, api: str
    ) -> tuple[ConnectorError, bool]:
        """A try that brought no answer to map: the error it is, and whether the request may
        be sent again. The observer hears of it as a timeout or an error."""
        if isinstance(exc, httpx.TimeoutException):
            self.observer.request_done(api, "timeout")
            # A read timeout means the server may have acted: only idempotent requests go
            # again. A connect or pool timeout never reached it.
            never_sent = isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout)
            _log_no_answer("http_timeout", request, attempt, exc)
            return (
                TransientError(f"{request.what} timed out ({type(exc).__name__})"),
                request.safe_to_resend or never_sent,
            )
        if isinstance(exc, httpx.NetworkError | httpx.RemoteProtocolError):
            self.observer.request_done(api, "error")
            never_sent = isinstance(exc, httpx.ConnectError)
            _log_no_answer("http_connection_failed", request, attempt, exc)
            return (
                TransientError(f"{request.what}: connection failed ({type(exc).__name__})"),
                request.safe_to_resend or never_sent,
            )
        self.observer.request_done(api, "error")
        if isinstance(exc, MalformedResponse):
            # Over the cap, or not decodable: the same answer would come again.
            log.warning(
                "http_answer_refused",
                scope=request.scope,
                method=request.method,
                url=loggable_url(request.url),
                attempt=attempt,
                reason=escape(exc.message),
            )
            return exc, False
        return PermanentError(f"{request.what}: {type(exc).__name__}"), False

    async def bearer(self, tenant_id: str, resource: str, identity: str | None) -> str:
        """The token the requests to ``resource`` in ``tenant_id`` as ``identity`` carry, from
        the requester's cache (the provider is asked only when it holds none)."""
        return await self._tokens.token(tenant_id, resource, identity, False)

    async def get_json(self, request: ApiRequest) -> dict[str, Any]:
        """``send`` and decode a JSON object; anything else is :class:`MalformedResponse`."""
        return json_object(await self.answer(request), request.what)
