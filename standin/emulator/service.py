"""The emulator's request pipeline, shared by every API (the endpoints: ``standin.emulator.apis``).

Every request goes through the same steps: route, latency, authentication (401 in the API's
shape), throttling (429 in the API's shape, per Microsoft's documented scope), the scenario's
faults (matched by endpoint, or by the ``X-Partnerlink-Source`` header a connector may send),
then the endpoint. How a client sees each fault kind:

* ``status``: that HTTP status in the API's error shape (429 in its throttling shape), with
  ``Retry-After`` when the fault sets ``retry_after``.
* ``timeout``: the request is held ``timeout_hold`` seconds, then the connection is closed with
  no answer (a read timeout when the client's is shorter, "server disconnected" otherwise).
* ``malformed``: ``200`` with a body that is not valid JSON.
* ``truncated``: the listing ends early, and says so. Partner Center: no ``links.next`` and a
  ``totalCount`` larger than the items served in all. Graph: no ``@odata.nextLink`` and, when
  ``$count=true`` was asked, an ``@odata.count`` larger than the items served (a client must ask
  for the count to notice). ARM: a ``nextLink`` whose skip token has expired, so the next page
  answers ``400 InvalidSkipToken``. Insights: ``totalCount`` larger than ``value``, or the
  report file cut short. A single object (PAL, a report file) is cut short on the wire: its
  ``Content-Length`` promises more than arrives.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import structlog

from connectors.records.scope import Source
from standin.emulator.authority import TokenAuthority
from standin.emulator.errors import aad_error, error, throttled, unauthorized
from standin.emulator.limits import (
    PC_TENANT,
    Decision,
    Limit,
    Limiters,
    arm_remaining_headers,
    retry_after_header,
)
from standin.emulator.routing import Call, Handler, Route, RouteIndex, api_of
from standin.emulator.tokens import Principal, TokenInvalid
from standin.emulator.wire import Answer, Reply, Request
from standin.emulator.world import Downloads, World
from standin.scenario.model import FaultSpec

log = structlog.get_logger("standin.emulator")

SOURCE_HEADER = "x-partnerlink-source"
"""Optional request header naming the connector source a call belongs to. Faults are matched
by endpoint; a connector that reads another source's endpoint (PAL lists ``/subscriptions`` to
know which subscriptions its link covers) names its own source, so a fault of
``arm.subscriptions`` does not fail the ``arm.pal`` read, as in the fake. The connectors never
send it: they name the source in a request extension, which a client of the emulator turns into
this header (:mod:`standin.emulator.hints`); Microsoft never sees it."""
SOURCE_NAMES = frozenset(s.value for s in Source)


@dataclass(frozen=True)
class Settings:
    """How the emulator behaves beyond the scenario."""

    time_scale: float = 1.0
    enforce_limits: bool = True
    latency_ms: float = 0.0
    timeout_hold: float = 0.0


class Service:
    """Answers requests against the current world through ``routes``. Thread-safe."""

    def __init__(
        self,
        world: Callable[[], World],
        settings: Callable[[], Settings],
        authority: TokenAuthority,
        limiters: Callable[[], Limiters],
        stopping: threading.Event,
        *,
        routes: Sequence[Route[Service]],
    ) -> None:
        self.world = world
        self.settings = settings
        self.authority = authority
        self.limiters = limiters
        self.routes = RouteIndex(routes)
        self.downloads = Downloads()
        self.stopping = stopping
        self.control: Callable[[Request], Reply] | None = None
        self._count_lock = threading.Lock()
        self.requests: dict[str, int] = {}
        self.throttled: dict[str, int] = {}
        self.faults_fired = 0

    # -- pipeline ---------------------------------------------------------------------------

    def handle(self, req: Request) -> Reply:
        api = api_of(req.path)
        if api == "control" and self.control is not None:
            return self.control(req)
        settings = self.settings()
        if settings.latency_ms and api != "download":
            time.sleep(settings.latency_ms / 1000)
        world = self.world()
        with self._count_lock:
            self.requests[api] = self.requests.get(api, 0) + 1
        call = Call(req, world, api, {})
        try:
            handler = self._route(call)
            reply = handler(self, call)
        except Answer as answer:
            reply = answer.reply
        except Exception as exc:
            # No traceback: a rendered frame's locals could hold the request's client secret.
            log.error(
                "emulator_handler_failed",
                path=req.path,
                method=req.method,
                error=type(exc).__name__,
            )
            reply = error(call, 500, "internal error in the emulator")
        for key, value in call.headers.items():
            reply.headers.setdefault(key, value)
        _stamp(call, reply)
        if call.cut and reply.action == "send" and reply.status < 300:
            reply.action = "cut"
        return reply

    def _route(self, call: Call) -> Handler[Service]:
        path = call.req.path
        allowed = False
        for candidate in self.routes.candidates(path):
            match = candidate.pattern.match(path)
            if match is None:
                continue
            if call.req.method not in candidate.methods:
                allowed = True
                continue
            call.api = candidate.api
            call.params = {k: v for k, v in match.groupdict().items() if v is not None}
            return candidate.handler
        if allowed:
            raise Answer(error(call, 405, f"method {call.req.method} is not supported here"))
        raise Answer(error(call, 404, f"no such resource: {path}"))

    # -- authentication, throttling, faults -------------------------------------------------

    def authenticate(self, call: Call, audiences: tuple[str, ...]) -> Principal:
        header = call.req.header("authorization") or ""
        scheme, _, token = header.partition(" ")
        realm = f'Bearer authorization_uri="{call.req.origin}/common/oauth2/authorize"'
        if scheme.lower() != "bearer" or not token.strip():
            raise Answer(
                unauthorized(call, "missing", "The 'Authorization' header is missing.", realm)
            )
        try:
            principal = self.authority.check(token.strip(), audiences=audiences)
        except TokenInvalid as exc:
            raise Answer(unauthorized(call, exc.reason, exc.message, realm)) from None
        if not call.world.known_tenant(principal.tenant_id):
            raise Answer(
                unauthorized(
                    call, "tenant", "The access token is from a tenant unknown here.", realm
                )
            )
        found = call.world.app(principal.app_id)
        call.principal = principal
        call.identity = found[0] if found else None
        return principal

    def throttle(self, call: Call, checks: list[tuple[Limit, str, int]]) -> dict[str, Decision]:
        """Admit the call against each (limit, key, cost) or answer 429; the decisions seen."""
        settings = self.settings()
        decision, refused, seen = self.limiters().admit(checks, enforce=settings.enforce_limits)
        if refused is not None:
            reply = self._throttled(call, decision.retry_after, refused)
            if call.api == "arm":
                reply.headers.update(arm_remaining_headers(call.req.path, {refused.name: decision}))
            raise Answer(reply)
        return seen

    def _throttled(self, call: Call, seconds: float, limit: Limit) -> Reply:
        with self._count_lock:
            self.throttled[call.api] = self.throttled.get(call.api, 0) + 1
        return throttled(call, seconds, limit)

    def take_fault(
        self, call: Call, source: str, scope: str, *, identity: str | None, label: str
    ) -> FaultSpec | None:
        """The scenario's next fault for this source, scope and identity, counted if any."""
        spec = call.world.faults.take(source, scope, identity=identity, call=label)
        if spec is not None:
            with self._count_lock:
                self.faults_fired += 1
        return spec

    def fault(
        self,
        call: Call,
        source: Source,
        scope: str,
        *,
        page: int = 1,
        identity: str | None = None,
    ) -> FaultSpec | None:
        """Fire the scenario's fault for this call, if any. Returns a ``truncated`` fault for
        the listing to apply; every other kind answers here."""
        hinted = call.req.header(SOURCE_HEADER)
        if hinted in SOURCE_NAMES:
            source = Source(hinted)
            if source is Source.ARM_PAL and identity is None:
                identity = call.identity
        spec = self.take_fault(call, source.value, scope, identity=identity, label=f"page:{page}")
        if spec is None or spec.kind == "truncated":
            return spec
        raise Answer(self.fault_reply(call, spec))

    def fault_single(
        self, call: Call, source: Source, scope: str, identity: str | None = None
    ) -> None:
        """A fault on a single object (not a listing): ``truncated`` cuts the body short."""
        if self.fault(call, source, scope, identity=identity) is not None:
            call.cut = True

    def fault_reply(self, call: Call, spec: FaultSpec) -> Reply:
        """How a fault of any kind but ``truncated`` answers (see the module's list)."""
        if spec.kind == "timeout":
            self.stopping.wait(self.settings().timeout_hold)
            return Reply(0, action="close")
        if spec.kind == "malformed":
            return Reply(200, b'{"value": [{"id": "truncated-in-the-middle", ')
        assert spec.status is not None
        headers = {}
        if spec.retry_after is not None:
            headers["Retry-After"] = retry_after_header(
                spec.retry_after, fractional=call.api == "graph"
            )
        if spec.status == 429:
            reply = self._throttled(call, spec.retry_after or 1.0, PC_TENANT)
            if spec.retry_after is None:
                reply.headers.pop("Retry-After", None)
            reply.headers.update(headers)
            return reply
        if call.api == "login":
            return aad_error(
                spec.status,
                "invalid_client",
                "AADSTS7000215",
                "Invalid client secret provided (injected fault).",
                headers,
            )
        return error(
            call, spec.status, "The service is unavailable (injected fault).", None, headers
        )


def _stamp(call: Call, reply: Reply) -> None:
    """The request-id headers each API answers with."""
    req = call.req
    if call.api in {"pc", "insights"}:
        reply.headers.setdefault(
            "MS-CorrelationId", req.header("ms-correlationid") or req.request_id
        )
        reply.headers.setdefault("MS-RequestId", req.header("ms-requestid") or req.request_id)
        reply.headers.setdefault("MS-CV", req.request_id[:8] + ".0")
        reply.headers.setdefault("MS-ServerId", "emulator")
    elif call.api == "graph":
        reply.headers.setdefault("request-id", req.request_id)
        reply.headers.setdefault(
            "client-request-id", req.header("client-request-id") or req.request_id
        )
    elif call.api == "arm":
        reply.headers.setdefault("x-ms-request-id", req.request_id)
        reply.headers.setdefault(
            "x-ms-correlation-request-id",
            req.header("x-ms-correlation-request-id") or req.request_id,
        )
    elif call.api == "login":
        reply.headers.setdefault("x-ms-request-id", req.request_id)
        reply.headers.setdefault("Cache-Control", "no-store, no-cache")
