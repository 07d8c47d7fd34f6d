"""HTTP plumbing of the live connectors: one requester, one throttling gate, three paginators.

Every call to Microsoft goes through :class:`Requester`: it adds the bearer token (refreshed once
on a 401), maps every non-success answer through :func:`connectors.errors.error_for_status`,
retries transient failures per :class:`~connectors.retry_after.RetryPolicy` honouring
``Retry-After`` and waits on a :class:`ScopeGate`, which pauses a whole throttling scope after a
429 (R16) and spaces ARM calls when the remaining budget runs low (R18). :func:`paginate` drives
the three paging styles and raises instead of returning a short list (R2). Every answer is
streamed under a byte cap (:mod:`connectors.answers`), and a download link is followed only to a
public https host (:mod:`connectors.destinations`). Logs never carry a token, a query string or
an unescaped API string (R19). A :class:`RequestObserver` hears of every try and every
throttling wait, so the agent can count them without this package knowing it.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import math
import os
import random
import re
import ssl
import time
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from importlib import metadata
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx
import structlog

from connectors.base import TokenProvider
from connectors.destinations import DownloadGuard
from connectors.endpoints import CloudEndpoints
from connectors.errors import (
    ConnectorError,
    IncompleteListing,
    MalformedResponse,
    PermanentError,
    ThrottledError,
    TransientError,
    error_for_status,
)
from connectors.http.body import (
    ACCEPT_ENCODING,
    DEFAULT_CAPS,
    AnswerCaps,
    bounded_response,
    read_body,
)
from connectors.ratelimit import MicrosoftLimits, Ticket
from connectors.records.customers import Record, ScopeKind, Source
from connectors.retry_after import DEFAULT_RETRY, RetryPolicy
from connectors.text import NAME_LIMIT, TEXT_LIMIT, clean

__all__ = [
    "APP_USER",
    "DEFAULT_MAX_PAGES",
    "IDEMPOTENT_METHODS",
    "NO_OBSERVER",
    "SOURCE_EXTENSION",
    "USER_AGENT",
    "ApiRequest",
    "ArmPaginator",
    "BudgetSpacing",
    "GraphPaginator",
    "LiveConnector",
    "Page",
    "Paginator",
    "PartnerCenterPaginator",
    "RequestObserver",
    "Requester",
    "ScopeGate",
    "ShardedTransport",
    "api_of",
    "escape",
    "flag",
    "guid",
    "integer",
    "json_object",
    "loggable_url",
    "make_client",
    "nested",
    "number",
    "paginate",
    "remaining_budget",
    "required",
    "sanitise",
    "text",
    "timestamp",
]

log = structlog.get_logger()

Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], float]

APP_USER = "app+user"
"""The ``identity`` asked of the token provider for an app+user (delegated) token: the Partner
Center usage and insights endpoints accept no app-only token."""

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
DEFAULT_MAX_PAGES = 2000


def _version() -> str:
    try:
        return metadata.version("partnerlink")
    except metadata.PackageNotFoundError:
        return "0"


USER_AGENT = f"partnerlink/{_version()}"
SOURCE_EXTENSION = "partnerlink.source"
"""The request extension (never a header: nothing but Microsoft's own headers goes to Microsoft)
naming the source a request is made for. Only a transport that serves the local emulator reads
it; see :mod:`standin.emulator.hints`."""


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
    :mod:`connectors.graph` does itself through the requester. Only the encodings the agent
    inflates in bounded steps are asked for (:mod:`connectors.answers`).
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


# ---------------------------------------------------------------------------------------------
# Log hygiene


def escape(text: object, limit: int = 300) -> str:
    """An API string made safe for a log line: CR/LF escaped, length capped (R19)."""
    value = str(text).replace("\r", "\\r").replace("\n", "\\n")
    return value if len(value) <= limit else value[:limit] + "..."


def loggable_url(url: str | httpx.URL) -> str:
    """Scheme, host and path only: query strings may carry a pre-authenticated signature."""
    parts = urlsplit(str(url))
    return escape(f"{parts.scheme}://{parts.netloc}{parts.path}")


_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")


def sanitise(error: ConnectorError, token: str | None = None) -> ConnectorError:
    """An error safe to log and store: no bearer token (even one an API echoes back), nothing
    JWT-shaped, CR/LF escaped in the message and code (R19)."""
    message = error.message
    if token:
        message = message.replace(token, "[token]")
    message = escape(_JWT.sub("[jwt]", message), 500)
    if message != error.message:
        error.message = message
        error.args = (message,)
    if error.code is not None:
        error.code = escape(error.code, 100)
    return error


# ---------------------------------------------------------------------------------------------
# Throttling scopes


@dataclass
class _ScopeState:
    blocked_until: float = 0.0
    spacing: float = 0.0
    last_start: float = float("-inf")


class ScopeGate:
    """Admission per throttling scope (``pc:<partner tenant>``, ``graph:<tenant>``,
    ``arm:<tenant>/<identity>`` ...).

    ``block`` pauses every request of one scope (a 429 with ``Retry-After``, R16) without
    touching other scopes; ``set_spacing`` enforces a minimum interval between request starts of
    one scope (ARM budget running low, R18). Rates per scope are
    :class:`connectors.ratelimit.MicrosoftLimits`' job.

    Only scopes that are paused or spaced have a state here: a sync of 20,000 customers touches
    100,000 scopes, and remembering each one's last start would grow with the estate.
    """

    def __init__(self, *, clock: Clock = time.monotonic, sleep: Sleep = asyncio.sleep) -> None:
        self._clock = clock
        self._sleep = sleep
        self._scopes: dict[str, _ScopeState] = {}

    def __len__(self) -> int:
        return len(self._scopes)

    def _state(self, scope: str) -> _ScopeState:
        state = self._scopes.get(scope)
        if state is None:
            state = self._scopes[scope] = _ScopeState()
        return state

    def block(self, scope: str, seconds: float) -> None:
        """No request of ``scope`` starts for ``seconds`` from now (extends, never shortens)."""
        until = self._clock() + max(0.0, seconds)
        state = self._state(scope)
        if until > state.blocked_until:
            state.blocked_until = until
            log.info("http_scope_paused", scope=scope, seconds=round(seconds, 3))

    def set_spacing(self, scope: str, seconds: float) -> None:
        """Minimum time between two request starts of ``scope``; 0 lifts it."""
        seconds = max(0.0, seconds)
        state = self._scopes.get(scope)
        if state is None:
            if seconds == 0.0:
                return  # nothing to lift
            state = self._state(scope)
            state.last_start = self._clock()  # the request that reported the budget just ran
        if abs(seconds - state.spacing) > 1e-9:
            log.info("http_scope_spacing", scope=scope, seconds=round(seconds, 3))
        state.spacing = seconds  # counted from the last start, so it applies to the next one
        self._forget_if_idle(scope, state, self._clock())

    def earliest(self, scope: str) -> float:
        """Clock time at which the next request of ``scope`` may start."""
        state = self._scopes.get(scope)
        if state is None:
            return float("-inf")
        return max(state.blocked_until, state.last_start + state.spacing)

    def delay(self, scope: str) -> float:
        """How long a request of ``scope`` would wait if it asked now."""
        return max(0.0, self.earliest(scope) - self._clock())

    def paused(self, scope: str) -> bool:
        """Whether ``scope`` is paused (a 429's ``Retry-After``), not merely spaced."""
        state = self._scopes.get(scope)
        return state is not None and state.blocked_until > self._clock()

    async def acquire(self, scope: str) -> None:
        """Wait until a request of ``scope`` may start, and take its slot."""
        while True:
            now = self._clock()
            start = self.earliest(scope)
            if start <= now:
                state = self._scopes.get(scope)
                if state is not None:
                    state.last_start = now
                    self._forget_if_idle(scope, state, now)
                return
            await self._sleep(start - now)

    def _forget_if_idle(self, scope: str, state: _ScopeState, now: float) -> None:
        """A scope neither paused nor spaced needs no state (its last start no longer
        matters: a spacing set later counts from the next start)."""
        if state.spacing == 0.0 and state.blocked_until <= now:
            self._scopes.pop(scope, None)


@dataclass(frozen=True, slots=True)
class BudgetSpacing:
    """Spacing of a scope from ARM's ``x-ms-ratelimit-remaining-*`` headers (R18).

    Below ``threshold`` remaining requests the interval between calls grows linearly up to
    ``max_spacing`` at zero remaining; at or above it the spacing is lifted.
    """

    threshold: int = 50
    max_spacing: float = 1.0

    def spacing(self, remaining: int) -> float:
        if remaining >= self.threshold:
            return 0.0
        return self.max_spacing * (self.threshold - max(remaining, 0)) / self.threshold


_RATELIMIT_PREFIX = "x-ms-ratelimit-remaining-"


def remaining_budget(method: str, headers: httpx.Headers) -> int | None:
    """The smallest remaining ARM budget relevant to ``method``, if the answer reports one."""
    wanted = {"DELETE": ("deletes",)}.get(
        method, ("reads", "resource-requests") if method in ("GET", "HEAD") else ("writes",)
    )
    values: list[int] = []
    for name, value in headers.items():
        lowered = name.lower()
        if not lowered.startswith(_RATELIMIT_PREFIX):
            continue
        if not any(lowered.endswith(suffix) for suffix in wanted):
            continue
        try:
            values.append(int(value.strip()))
        except ValueError:
            continue
    return min(values) if values else None


# ---------------------------------------------------------------------------------------------
# Observing requests


class RequestObserver(Protocol):
    """Hears what the requester does, for metrics; this package never imports the agent.

    ``api`` is one of a handful of names (:func:`api_of`), never a tenant or a URL, so a
    metric labelled with it stays small however large the estate.
    """

    def request_done(self, api: str, status: int | str) -> None:
        """One try ended: its HTTP status, or ``"timeout"``/``"error"`` when no answer came."""

    def waited(self, api: str, seconds: float, why: str) -> None:
        """A request waited ``seconds`` before going out because of throttling: ``why`` is
        ``"retry_after"`` (a paused scope, or a ``Retry-After`` on a retry), ``"spacing"``
        (ARM budget running low) or ``"budget"`` (the client-side limits)."""


class _NoObserver:
    """The default observer: hears everything, keeps nothing."""

    def request_done(self, api: str, status: int | str) -> None:
        pass

    def waited(self, api: str, seconds: float, why: str) -> None:
        pass


NO_OBSERVER: RequestObserver = _NoObserver()

_APIS = {
    "pc": "partner_center",
    "graph": "graph",
    "arm": "arm",
    "insights": "insights",
    "graph-download": "download",
    "insights-download": "download",
}


def api_of(scope: str) -> str:
    """Which API a throttling scope (``pc:<tenant>``, ``graph:<tenant>:reports`` ...) belongs
    to: the family before the first colon, so no tenant or identity ever reaches a label."""
    return _APIS.get(scope.split(":", 1)[0], "other")


# ---------------------------------------------------------------------------------------------
# Requests


@dataclass(frozen=True, slots=True, kw_only=True)
class ApiRequest:
    """One logical request; retries and the 401 refresh re-send the same one.

    ``tenant_id``/``resource`` say which token to send (``None``: no Authorization, e.g. a
    pre-authenticated download). ``scope`` is the throttling scope. ``what`` names the read in
    error messages. ``partner_center`` adds ``MS-RequestId`` (the same on every retry),
    ``MS-CorrelationId`` and ``MS-Contract-Version``.
    """

    method: str
    url: str
    scope: str
    what: str
    tenant_id: str | None = None
    resource: str | None = None
    identity: str | None = None
    params: Mapping[str, str] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    json: Any = None
    partner_center: bool = False
    correlation_id: str | None = None
    idempotent: bool | None = None
    pre_authenticated: bool = False
    """The URL itself is the credential (a report download): no token or Authorization header
    is ever sent with it, it is fetched only from a public https host (the requester's
    :class:`~connectors.destinations.DownloadGuard`), its answer is held to the download cap,
    and (as for every URL) its query string is never logged."""
    source: str | None = None
    """The connector source the request is made for, when it reads another source's endpoint
    (PAL lists ``/subscriptions``): carried in the request's extensions, never on the wire."""

    @property
    def authenticated(self) -> bool:
        return (
            not self.pre_authenticated and self.tenant_id is not None and self.resource is not None
        )

    @property
    def safe_to_resend(self) -> bool:
        if self.idempotent is not None:
            return self.idempotent
        return self.method.upper() in IDEMPOTENT_METHODS


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


def _body_of(response: httpx.Response) -> Any:
    """The decoded error body when it is JSON; ``None`` otherwise."""
    try:
        return response.json()
    except (ValueError, UnicodeDecodeError):
        return None


def _response_request_id(response: httpx.Response) -> str | None:
    for name in ("MS-RequestId", "x-ms-request-id", "request-id", "x-ms-correlation-request-id"):
        value = response.headers.get(name)
        if value:
            return escape(value, 100)
    return None


class Requester:
    """Sends each :class:`ApiRequest`: tokens, error mapping, retries and throttling in one place.

    One instance is shared by every live connector of a process, so that a scope paused by one
    worker is paused for all of them (R16). ``observer`` hears of every try and every throttling
    wait (timed on ``clock``), for the agent's metrics. Every answer is read under ``caps``
    (:mod:`connectors.answers`); a pre-authenticated download goes only where ``downloads``
    allows.
    """

    def __init__(
        self,
        client: httpx.AsyncClient,
        tokens: TokenProvider,
        *,
        retry: RetryPolicy = DEFAULT_RETRY,
        gate: ScopeGate | None = None,
        sleep: Sleep = asyncio.sleep,
        budget: BudgetSpacing = BudgetSpacing(),
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
        self._flight: asyncio.Semaphore | None = None
        self._token_cache: OrderedDict[tuple[str, str, str | None], tuple[str, float]] = (
            OrderedDict()
        )
        self._token_pending: dict[tuple[str, str, str | None], asyncio.Future[str]] = {}
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

    async def _token(
        self, tenant: str, resource: str, identity: str | None, force_refresh: bool
    ) -> str:
        """The bearer token of a request: one sign-in at a time per (tenant, resource,
        identity), however many requests want it, and JWTs kept until five minutes before they
        expire. Without this, every request of a customer's sources hops to a thread and queues
        on the provider's per-tenant lock while its first sign-in runs."""
        key = (tenant, resource, identity)
        if force_refresh:
            self._token_cache.pop(key, None)
        else:
            cached = self._token_cache.get(key)
            if cached is not None and cached[1] > time.time() + TOKEN_EXPIRY_MARGIN:
                self._token_cache.move_to_end(key)
                return cached[0]
            pending = self._token_pending.get(key)
            if pending is not None:
                return await asyncio.shield(pending)
        task = asyncio.ensure_future(
            self.tokens.token(tenant, resource, identity=identity, force_refresh=force_refresh)
        )
        self._token_pending[key] = task
        try:
            token = await asyncio.shield(task)
        finally:
            if self._token_pending.get(key) is task:
                del self._token_pending[key]
        expires = jwt_expiry(token)
        if expires is not None:
            self._token_cache[key] = (token, expires)
            self._token_cache.move_to_end(key)
            while len(self._token_cache) > TOKEN_CACHE_SIZE:
                self._token_cache.popitem(last=False)
        return token

    def _slot(self) -> asyncio.Semaphore | contextlib.nullcontext[None]:
        if self.max_in_flight is None:
            return contextlib.nullcontext()
        if self._flight is None:
            self._flight = asyncio.Semaphore(self.max_in_flight)
        return self._flight

    async def send(self, request: ApiRequest) -> httpx.Response:
        """The answer to ``request`` (status below 400), or the error it ended with."""
        request_id = str(uuid.uuid4())
        correlation_id = request.correlation_id or str(uuid.uuid4())
        api = api_of(request.scope)
        if request.pre_authenticated:
            await self._check_download(request)
        attempt = 0
        refreshed = False
        force_refresh = False
        while True:
            attempt += 1
            ticket = await self._admit(request, api)
            headers = {
                k: v
                for k, v in request.headers.items()
                if not (request.pre_authenticated and k.lower() == "authorization")
            }
            if request.partner_center:
                headers["MS-RequestId"] = request_id
                headers["MS-CorrelationId"] = correlation_id
                headers["MS-Contract-Version"] = "v1"
            token: str | None = None
            try:
                if request.authenticated and request.tenant_id and request.resource:
                    token = await self._token(
                        request.tenant_id, request.resource, request.identity, force_refresh
                    )
                    headers["Authorization"] = f"Bearer {token}"
                async with self._slot():
                    self.sent += 1
                    outcome, resendable = await self._exchange(
                        request,
                        headers,
                        attempt,
                        api,
                        refreshable=request.authenticated and not refreshed,
                    )
            finally:
                if ticket is not None:
                    ticket.release()  # stamped when the answer arrived (or the try failed)
            if isinstance(outcome, httpx.Response):
                if outcome.status_code == 401:
                    # The token may have been revoked or rotated under us: one fresh token,
                    # then a 401 is an answer (R3: "cannot verify"), not a retry case.
                    refreshed = force_refresh = True
                    attempt -= 1
                    log.info("http_token_refresh", scope=request.scope, what=escape(request.what))
                    continue
                return outcome
            error = sanitise(outcome, token)
            force_refresh = False
            throttled = isinstance(error, ThrottledError)
            retry_after = error.retry_after if isinstance(error, TransientError) else None
            delay = (
                self.retry.delay(attempt, retry_after)
                if retry_after is not None
                else (self.retry.backoff(attempt, self._rng))
            )
            if throttled:
                # The scope is throttled, not just this request: everyone of it waits (R16).
                self.gate.block(request.scope, delay)
            if not (
                error.retryable and resendable and self.retry.allows(attempt, throttled=throttled)
            ):
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

    async def _fetch(self, request: ApiRequest, headers: dict[str, str]) -> httpx.Response:
        """Send one try and read its answer under the cap of its kind (streamed: an answer
        over the cap is cut there, never held whole)."""
        sent = self.client.build_request(
            request.method,
            request.url,
            params=request.params,
            headers=headers,
            json=request.json,
            extensions={SOURCE_EXTENSION: request.source} if request.source else None,
        )
        response = await self.client.send(sent, stream=True)
        try:
            cap = self.caps.cap(download=request.pre_authenticated)
            body = await read_body(response, cap, request.what)
        finally:
            await response.aclose()
        return bounded_response(response, body)

    async def _exchange(
        self,
        request: ApiRequest,
        headers: dict[str, str],
        attempt: int,
        api: str,
        *,
        refreshable: bool,
    ) -> tuple[httpx.Response | ConnectorError, bool]:
        """One try: the answer (status < 400, or a 401 while ``refreshable``) or the error, and
        whether the request may be sent again. The observer hears of every try."""
        started = time.monotonic()
        try:
            response = await self._fetch(request, headers)
        except httpx.TimeoutException as exc:
            self.observer.request_done(api, "timeout")
            # A read timeout means the server may have acted: only idempotent requests go
            # again. A connect or pool timeout never reached it.
            never_sent = isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout)
            log.info(
                "http_timeout",
                scope=request.scope,
                method=request.method,
                url=loggable_url(request.url),
                attempt=attempt,
                kind=type(exc).__name__,
            )
            return (
                TransientError(f"{request.what} timed out ({type(exc).__name__})"),
                request.safe_to_resend or never_sent,
            )
        except (httpx.NetworkError, httpx.RemoteProtocolError) as exc:
            self.observer.request_done(api, "error")
            never_sent = isinstance(exc, httpx.ConnectError)
            log.info(
                "http_connection_failed",
                scope=request.scope,
                method=request.method,
                url=loggable_url(request.url),
                attempt=attempt,
                kind=type(exc).__name__,
            )
            return (
                TransientError(f"{request.what}: connection failed ({type(exc).__name__})"),
                request.safe_to_resend or never_sent,
            )
        except MalformedResponse as exc:
            # Over the cap, or not decodable: the same answer would come again.
            self.observer.request_done(api, "error")
            log.warning(
                "http_answer_refused",
                scope=request.scope,
                method=request.method,
                url=loggable_url(request.url),
                attempt=attempt,
                reason=escape(exc.message),
            )
            return exc, False
        except httpx.HTTPError as exc:
            self.observer.request_done(api, "error")
            return PermanentError(f"{request.what}: {type(exc).__name__}"), False
        elapsed_ms = round((time.monotonic() - started) * 1000, 1)
        status = response.status_code
        self.observer.request_done(api, status)
        log.debug(
            "http_request",
            scope=request.scope,
            method=request.method,
            url=loggable_url(request.url),
            status=status,
            attempt=attempt,
            elapsed_ms=elapsed_ms,
        )
        remaining = remaining_budget(request.method.upper(), response.headers)
        if remaining is not None:
            self.gate.set_spacing(request.scope, self.budget.spacing(remaining))
        if status < 400 or (status == 401 and refreshable):
            return response, False
        error = self._map(request, response)
        # POST/PATCH: a 429 or 503 was refused before any work; anything else may have acted.
        resendable = request.safe_to_resend or status in (429, 503)
        return error, resendable

    def _map(self, request: ApiRequest, response: httpx.Response) -> ConnectorError:
        return error_for_status(
            response.status_code,
            body=_body_of(response),
            headers=response.headers,
            what=request.what,
            request_id=_response_request_id(response),
        )

    async def get_json(self, request: ApiRequest) -> dict[str, Any]:
        """``send`` and decode a JSON object; anything else is :class:`MalformedResponse`."""
        return json_object(await self.send(request), request.what)


def json_object(response: httpx.Response, what: str) -> dict[str, Any]:
    """The JSON object of a success answer; anything else is :class:`MalformedResponse`."""
    if not 200 <= response.status_code < 300:
        raise MalformedResponse(f"{what}: unexpected HTTP {response.status_code}")
    try:
        body = response.json()
    except (ValueError, UnicodeDecodeError):
        raise MalformedResponse(f"{what}: the answer is not valid JSON") from None
    if not isinstance(body, dict):
        raise MalformedResponse(f"{what}: the answer is not a JSON object")
    return body


# ---------------------------------------------------------------------------------------------
# Paging


@dataclass(frozen=True, slots=True)
class Page:
    """What one page of a listing holds: its items, how to get the next, the claimed total."""

    items: list[dict[str, Any]]
    next: ApiRequest | None
    total: int | None = None


class Paginator(Protocol):
    """A paging style: reads one page body and says where the next page is."""

    style: str

    def page(self, body: Mapping[str, Any], request: ApiRequest) -> Page: ...


def _items(body: Mapping[str, Any], key: str, what: str) -> list[dict[str, Any]]:
    items = body.get(key)
    if not isinstance(items, list):
        raise MalformedResponse(f"{what}: the page has no '{key}' list")
    for item in items:
        if not isinstance(item, dict):
            raise MalformedResponse(f"{what}: an item of '{key}' is not an object")
    return items


def _same_origin(url: str, base: str, what: str) -> str:
    """A next link must stay on the API's origin: the bearer token goes with it."""
    target, origin = urlsplit(url), urlsplit(base)
    if target.scheme not in ("https", "http") or not target.netloc:
        raise MalformedResponse(f"{what}: the next link is not an absolute URL")
    if (target.scheme, target.netloc.lower()) != (origin.scheme, origin.netloc.lower()):
        raise MalformedResponse(f"{what}: the next link leaves the API host")
    return url


def _total(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


class PartnerCenterPaginator:
    """Partner Center seek paging: ``links.next.uri`` (relative to ``/v1``) plus every
    ``links.next.headers[]`` entry (``MS-ContinuationToken``) as a header."""

    style = "partner_center"

    def __init__(self, endpoints: CloudEndpoints) -> None:
        self.v1 = endpoints.partner_center_v1

    def resolve(self, uri: str, what: str) -> str:
        """An absolute URL for a ``links`` uri: the docs show ``/v1/...``, ``/...`` and
        ``customers/...`` (no slash) for the same thing."""
        if "://" in uri:
            return _same_origin(uri, self.v1, what)
        path = uri.lstrip("/")
        if path.lower().startswith("v1/"):
            path = path[3:]
        return f"{self.v1}/{path}"

    def page(self, body: Mapping[str, Any], request: ApiRequest) -> Page:
        items = _items(body, "items", request.what)
        links = body.get("links")
        nxt = links.get("next") if isinstance(links, Mapping) else None
        following: ApiRequest | None = None
        if nxt is not None:
            if not isinstance(nxt, Mapping) or not isinstance(nxt.get("uri"), str):
                raise MalformedResponse(f"{request.what}: links.next has no uri")
            headers = {
                k: v for k, v in request.headers.items() if k.lower() != "ms-continuationtoken"
            }
            for entry in nxt.get("headers") or []:
                if not isinstance(entry, Mapping) or not isinstance(entry.get("key"), str):
                    raise MalformedResponse(f"{request.what}: a links.next header is malformed")
                headers[entry["key"]] = str(entry.get("value") or "")
            following = replace(
                request,
                url=self.resolve(nxt["uri"], request.what),
                params=None,
                headers=headers,
            )
        return Page(items, following, _total(body.get("totalCount")))


class GraphPaginator:
    """Microsoft Graph: ``value`` and an absolute ``@odata.nextLink``; ``@odata.count`` when
    the first request asked ``$count=true``."""

    style = "graph"

    def page(self, body: Mapping[str, Any], request: ApiRequest) -> Page:
        items = _items(body, "value", request.what)
        following = _absolute_next(body, "@odata.nextLink", request)
        return Page(items, following, _total(body.get("@odata.count")))


class ArmPaginator:
    """Azure Resource Manager: ``value`` and an absolute ``nextLink``."""

    style = "arm"

    def page(self, body: Mapping[str, Any], request: ApiRequest) -> Page:
        return Page(_items(body, "value", request.what), _absolute_next(body, "nextLink", request))


def _absolute_next(body: Mapping[str, Any], key: str, request: ApiRequest) -> ApiRequest | None:
    """The next request of a listing whose next link is an absolute URL on the same origin."""
    link = body.get(key)
    if link is None:
        return None
    if not isinstance(link, str):
        raise MalformedResponse(f"{request.what}: {key} is not a string")
    return replace(request, url=_same_origin(link, request.url, request.what), params=None)


def _page_key(
    request: ApiRequest,
) -> tuple[str, tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]:
    return (
        request.url,
        tuple(sorted((request.params or {}).items())),
        tuple(sorted(request.headers.items())),
    )


async def paginate(
    requester: Requester,
    first: ApiRequest,
    paginator: Paginator,
    *,
    max_pages: int = DEFAULT_MAX_PAGES,
) -> AsyncIterator[dict[str, Any]]:
    """Every item of a listing, page by page.

    Raises :class:`IncompleteListing` when the listing loops (a next link seen twice), runs past
    ``max_pages``, ends with fewer items than its claimed total, or a later page is refused
    permanently (an expired continuation); other errors of a page propagate as they are. A
    listing either completes or raises (R2).
    """
    seen = {_page_key(first)}
    request = first
    pages = received = 0
    claimed: int | None = None
    while True:
        pages += 1
        try:
            body = await requester.get_json(request)
        except PermanentError as exc:
            # A continuation refused for good (an expired page token, a vanished cursor): the
            # listing cannot be finished. Auth, malformed and transient errors keep their kind.
            if pages == 1 or type(exc) is not PermanentError:
                raise
            raise IncompleteListing(
                f"{first.what}: page {pages} of the listing was refused ({exc})",
                status=exc.status,
                code=exc.code,
                request_id=exc.request_id,
            ) from exc
        page = paginator.page(body, request)
        received += len(page.items)
        if page.total is not None:
            claimed = page.total if claimed is None else max(claimed, page.total)
        for item in page.items:
            yield item
        if page.next is None:
            break
        key = _page_key(page.next)
        if key in seen:
            log.warning(
                "http_paging_loop", style=paginator.style, what=escape(first.what), pages=pages
            )
            raise IncompleteListing(f"{first.what}: the listing links back to a page it read")
        if pages >= max_pages:
            raise IncompleteListing(f"{first.what}: more than {max_pages} pages")
        seen.add(key)
        request = page.next
    if claimed is not None and claimed > received:
        raise IncompleteListing(
            f"{first.what}: the listing claims {claimed} items but {received} arrived"
        )


# ---------------------------------------------------------------------------------------------
# The connectors' common part


class LiveConnector:
    """What every live connector shares: the protocol attributes, taken from the source's row
    (:mod:`connectors.sources`) as the fake connectors take them, so that real and fake
    connectors of a source are interchangeable."""

    source: Source

    def __init__(
        self, requester: Requester, endpoints: CloudEndpoints, *, identity: str | None = None
    ) -> None:
        self.requester = requester
        self.endpoints = endpoints
        # The rows name the connector classes built on this one, so they are read when a
        # connector is made rather than imported with this module.
        from connectors.sources import source_row

        row = source_row(self.source)
        self.scope_kind: ScopeKind = row.scope_kind
        self.kinds: tuple[str, ...] = row.kinds
        self.identity: str | None = identity if row.per_identity else None
        self.requires: Source | None = row.requires
        self.page_size: int = row.page_size

    def __repr__(self) -> str:
        suffix = f"/{self.identity}" if self.identity else ""
        return f"{type(self).__name__}({self.source}{suffix})"

    def what(self, customer_tenant_id: str | None) -> str:
        """How errors name this read, as the fake connectors name it."""
        scope = customer_tenant_id.lower() if customer_tenant_id else "partner"
        return f"{self.source} for {scope}"

    def customer(self, customer_tenant_id: str | None) -> str:
        """The lower-cased tenant of a customer-scoped read; partner scope is a caller bug."""
        if customer_tenant_id is None:
            raise ValueError(f"{self.source} is read per customer tenant")
        return customer_tenant_id.lower()

    def fetch(self, customer_tenant_id: str | None) -> AsyncIterator[Record]:
        raise NotImplementedError


# ---------------------------------------------------------------------------------------------
# Payload fields: lenient readers for optional fields, loud ones for required fields


_GUID_RE = re.compile(
    r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
)


def nested(item: Mapping[str, Any], *path: str) -> Any:
    """``item[a][b]...`` or ``None`` where any step is missing or not an object."""
    value: Any = item
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def text(value: Any, limit: int = TEXT_LIMIT) -> str | None:
    """A non-empty string (numbers are spelled out); ``None`` otherwise. Strings are cleaned
    (:func:`connectors.text.clean`): no control character or escape sequence gets past here."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return clean(value, limit) or None
    return None


def name_text(value: Any) -> str | None:
    """A display name (customer, domain, offer, relationship, subscription): :func:`text`,
    capped at :data:`connectors.text.NAME_LIMIT` characters."""
    return text(value, NAME_LIMIT)


def integer(value: Any) -> int | None:
    """An integer from a number or a digit string; ``None`` otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        cleaned = value.strip().replace(",", "")
        if re.fullmatch(r"-?\d+(\.0+)?", cleaned):
            return int(float(cleaned))
    return None


def number(value: Any) -> float | None:
    """A finite float from a number or a numeric string; ``None`` otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, str):
        try:
            parsed = float(value.strip().replace(",", ""))
        except ValueError:
            return None
        return parsed if math.isfinite(parsed) else None
    return None


def flag(value: Any) -> bool | None:
    """A JSON boolean, or ``"true"``/``"false"``; ``None`` otherwise."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    return None


def timestamp(value: Any) -> datetime | None:
    """An aware datetime from ISO 8601 (naive ones are UTC); ``None`` for anything unreadable,
    such as the documented ``"2015-11-25T06: 41: 12Z"``."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("z", "Z"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def guid(value: Any) -> str | None:
    """A lower-cased GUID; ``None`` for placeholders such as ``"<guid>"``."""
    if isinstance(value, str) and _GUID_RE.match(value.strip()):
        return value.strip().lower()
    return None


def required(item: Mapping[str, Any], *path: str, what: str) -> str:
    """A required string field; its absence makes the answer :class:`MalformedResponse`."""
    value = text(nested(item, *path))
    if value is None:
        raise MalformedResponse(f"{what}: an item has no '{'.'.join(path)}'")
    return value
