"""The emulator's endpoints: login, Partner Center, Insights, Graph, ARM, downloads.

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

import base64
import binascii
import csv
import hmac
import io
import json
import re
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

import structlog

from connectors.base import PARTNER_APP
from connectors.records.scope import Source
from connectors.sources import source_row
from standin.emulator import shapes
from standin.emulator.limits import (
    ARM_DELETES,
    ARM_READS,
    ARM_WRITES,
    GRAPH_GLOBAL_APP,
    GRAPH_IDENTITY_APP,
    GRAPH_MULTI_TENANT,
    GRAPH_MULTI_TENANT_APP,
    GRAPH_REPORTS_APP,
    GRAPH_REPORTS_TENANT,
    INSIGHTS_TENANT,
    PC_TENANT,
    Decision,
    Limit,
    Limiters,
    graph_identity_cost,
    graph_identity_limit,
    retry_after_header,
)
from standin.emulator.tokens import (
    RESOURCES,
    Principal,
    TokenAuthority,
    TokenInvalid,
    TokenRefused,
    client_info,
    resource_of,
    user_object_id,
)
from standin.emulator.wire import Answer, Reply, Request, json_reply
from standin.emulator.world import Downloads, World
from standin.scenario.model import CustomerSpec, FaultSpec
from standin.scenario.world import service_principals, sign_in_refusal, visible_subscriptions

log = structlog.get_logger("standin.emulator")

PC_AUDIENCE = "https://api.partnercenter.microsoft.com"
GRAPH_AUDIENCE = "https://graph.microsoft.com"
ARM_AUDIENCES = ("https://management.azure.com", "https://management.core.windows.net")
PAL_API_VERSION = "2018-02-01"
SOURCE_HEADER = "x-partnerlink-source"
"""Optional request header naming the connector source a call belongs to. Faults are matched
by endpoint; a connector that reads another source's endpoint (PAL lists ``/subscriptions`` to
know which subscriptions its link covers) names its own source, so a fault of
``arm.subscriptions`` does not fail the ``arm.pal`` read, as in the fake. The connectors never
send it: they name the source in a request extension, which a client of the emulator turns into
this header (:mod:`standin.emulator.hints`); Microsoft never sees it."""
SOURCE_NAMES = frozenset(s.value for s in Source)
PARTNER_ID = re.compile(r"^[0-9]{6,10}$")
CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
DEVICE_INTERVAL = 1
"""Seconds between device-code polls (Entra says 5; the emulator approves at once anyway)."""

DEFAULT_GRAPH_ROLES: tuple[str, ...] = (
    "Directory.Read.All",
    "DelegatedAdminRelationship.Read.All",
    "Organization.Read.All",
    "Reports.Read.All",
    "Application.Read.All",
)
"""Graph application roles the partner's app holds when the scenario lists none: the
read-only set the agent needs (§3-§4). Carriers hold none by default (they only read ARM)."""

GRAPH_NEEDS: dict[str, tuple[str, ...]] = {
    "contracts": ("Directory.Read.All", "Directory.ReadWrite.All"),
    "gdap": ("DelegatedAdminRelationship.Read.All", "DelegatedAdminRelationship.ReadWrite.All"),
    "subscribedSkus": (
        "LicenseAssignment.Read.All",
        "Organization.Read.All",
        "Directory.Read.All",
        "Organization.ReadWrite.All",
        "Directory.ReadWrite.All",
    ),
    "directory/subscriptions": (
        "Organization.Read.All",
        "Directory.Read.All",
        "Organization.ReadWrite.All",
        "Directory.ReadWrite.All",
    ),
    "servicePrincipals": (
        "Application.Read.All",
        "Directory.Read.All",
        "Application.ReadWrite.All",
        "Directory.ReadWrite.All",
    ),
    "applications": (
        "Application.Read.All",
        "Directory.Read.All",
        "Application.ReadWrite.All",
        "Directory.ReadWrite.All",
    ),
    "reports": ("Reports.Read.All",),
}
"""Graph application roles of which an endpoint needs one (the permissions pages, least
privileged first)."""

GRAPH_ERROR_CODES: dict[int, str] = {
    400: "BadRequest",
    401: "InvalidAuthenticationToken",
    403: "Authorization_RequestDenied",
    404: "Request_ResourceNotFound",
    409: "Conflict",
    500: "generalException",
    502: "badGateway",
    503: "serviceNotAvailable",
    504: "gatewayTimeout",
}


@dataclass(frozen=True)
class Settings:
    """How the emulator behaves beyond the scenario."""

    time_scale: float = 1.0
    enforce_limits: bool = True
    latency_ms: float = 0.0
    timeout_hold: float = 0.0


@dataclass
class Call:
    """One request in flight."""

    req: Request
    world: World
    api: str
    params: dict[str, str]
    principal: Principal | None = None
    identity: str | None = None
    cut: bool = False
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def tenant(self) -> str:
        assert self.principal is not None
        return self.principal.tenant_id

    def scope(self, tenant: str | None = None) -> str:
        """The fault scope of a tenant: ``partner`` or the customer tenant id."""
        tenant = (tenant or self.tenant).lower()
        return "partner" if tenant == self.world.partner_tenant else tenant


Handler = Callable[["Service", Call], Reply]


@dataclass(frozen=True)
class Route:
    methods: tuple[str, ...]
    pattern: re.Pattern[str]
    api: str
    handler: Handler


ROUTES: list[Route] = []


def route(api: str, pattern: str, *methods: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        ROUTES.append(Route(methods or ("GET",), re.compile(pattern, re.IGNORECASE), api, handler))
        return handler

    return register


def api_of(path: str) -> str:
    """Which API a path belongs to; decides the shape of its errors."""
    lowered = path.lower()
    if lowered.startswith("/_emulator/"):
        return "control"
    if lowered.startswith("/_downloads/"):
        return "download"
    if lowered.startswith("/v1/"):
        return "pc"
    if lowered.startswith("/insights/"):
        return "insights"
    if lowered.startswith(("/v1.0/", "/beta/")):
        return "graph"
    if lowered.startswith(("/subscriptions", "/providers/", "/tenants")):
        return "arm"
    return "login"


def _now() -> datetime:
    return datetime.now(UTC)


def _encode_token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset}).encode()).decode().rstrip("=")


def _decode_token(token: str) -> int | None:
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    offset = data.get("o") if isinstance(data, dict) else None
    return offset if isinstance(offset, int) and offset >= 0 else None


class Service:
    """Answers requests against the current world. Thread-safe."""

    def __init__(
        self,
        world: Callable[[], World],
        settings: Callable[[], Settings],
        authority: TokenAuthority,
        limiters: Callable[[], Limiters],
        stopping: threading.Event,
    ) -> None:
        self.world = world
        self.settings = settings
        self.authority = authority
        self.limiters = limiters
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
            reply = self.error(call, 500, "internal error in the emulator")
        for key, value in call.headers.items():
            reply.headers.setdefault(key, value)
        self._stamp(call, reply)
        if call.cut and reply.action == "send" and reply.status < 300:
            reply.action = "cut"
        return reply

    def _route(self, call: Call) -> Handler:
        path = call.req.path
        allowed = False
        for candidate in ROUTES:
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
            raise Answer(self.error(call, 405, f"method {call.req.method} is not supported here"))
        raise Answer(self.error(call, 404, f"no such resource: {path}"))

    def _stamp(self, call: Call, reply: Reply) -> None:
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

    # -- errors in each API's shape ---------------------------------------------------------

    def error(
        self,
        call: Call,
        status: int,
        message: str,
        code: str | int | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        api = call.api
        extra = dict(headers or {})
        if api in ("pc",):
            pc_code = code if isinstance(code, int) else status
            return json_reply(status, shapes.pc_error(pc_code, message), extra)
        if api == "insights":
            return json_reply(
                status, shapes.insights_envelope([], message=message, status=status), extra
            )
        if api == "graph":
            graph_code = (
                str(code) if code is not None else GRAPH_ERROR_CODES.get(status, "UnknownError")
            )
            stamp = _now().strftime("%Y-%m-%dT%H:%M:%S")
            return json_reply(
                status, shapes.graph_error(graph_code, message, call.req.request_id, stamp), extra
            )
        if api == "arm":
            arm_code = (
                str(code)
                if code is not None
                else {
                    400: "BadRequest",
                    401: "AuthenticationFailed",
                    403: "AuthorizationFailed",
                    404: "NotFound",
                    405: "MethodNotAllowed",
                }.get(status, "InternalServerError")
            )
            return json_reply(status, shapes.arm_error(arm_code, message), extra)
        if api == "login":
            return self.aad_error(
                status,
                "invalid_request",
                "AADSTS900561" if status == 405 else "AADSTS90000",
                message,
            )
        return json_reply(
            status, {"error": {"code": str(code or status), "message": message}}, extra
        )

    def aad_error(
        self,
        status: int,
        error: str,
        aadsts: str,
        description: str,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        body = shapes.aad_error(
            error,
            aadsts,
            description,
            trace_id=str(uuid.uuid4()),
            correlation_id=str(uuid.uuid4()),
            now=_now(),
        )
        return json_reply(status, body, headers)

    def throttled_reply(self, call: Call, seconds: float, limit: Limit) -> Reply:
        api = call.api
        with self._count_lock:
            self.throttled[api] = self.throttled.get(api, 0) + 1
        if api == "graph":
            value = retry_after_header(seconds, fractional=True)
            stamp = _now().strftime("%Y-%m-%dT%H:%M:%S")
            body = {
                "error": {
                    "code": "TooManyRequests",
                    "innerError": {
                        "code": "429",
                        "date": stamp,
                        "message": "Please retry after",
                        "request-id": call.req.request_id,
                        "status": "429",
                    },
                    "message": "Please retry again later.",
                }
            }
            return json_reply(
                429,
                body,
                {
                    "Retry-After": value,
                    "x-ms-throttle-scope": f"{limit.name}/{limit.scope}",
                    "x-ms-throttle-information": "ResourceUnitLimitExceeded"
                    if limit.algorithm == "bucket"
                    else "RequestLimitExceeded",
                },
            )
        value = retry_after_header(seconds, fractional=False)
        if api == "pc":
            return json_reply(429, shapes.pc_throttled(value), {"Retry-After": value})
        if api == "insights":
            return json_reply(
                429,
                shapes.insights_envelope(
                    [], message=f"Rate limit is exceeded. Try again in {value} seconds.", status=429
                ),
                {"Retry-After": value},
            )
        return json_reply(
            429,
            shapes.arm_error(
                "TooManyRequests",
                f"The request is being throttled as the limit has been reached for operation "
                f"type - {limit.name}. Retry after {value} seconds.",
            ),
            {"Retry-After": value},
        )

    # -- authentication, throttling, faults -------------------------------------------------

    def authenticate(self, call: Call, audiences: tuple[str, ...]) -> Principal:
        header = call.req.header("authorization") or ""
        scheme, _, token = header.partition(" ")
        realm = f'Bearer authorization_uri="{call.req.origin}/common/oauth2/authorize"'
        if scheme.lower() != "bearer" or not token.strip():
            raise Answer(
                self._unauthorized(call, "missing", "The 'Authorization' header is missing.", realm)
            )
        try:
            principal = self.authority.check(token.strip(), audiences=audiences)
        except TokenInvalid as exc:
            raise Answer(self._unauthorized(call, exc.reason, exc.message, realm)) from None
        if not call.world.known_tenant(principal.tenant_id):
            raise Answer(
                self._unauthorized(
                    call, "tenant", "The access token is from a tenant unknown here.", realm
                )
            )
        found = call.world.app(principal.app_id)
        call.principal = principal
        call.identity = found[0] if found else None
        return principal

    def _unauthorized(self, call: Call, reason: str, message: str, realm: str) -> Reply:
        headers = {
            "WWW-Authenticate": f'{realm}, error="invalid_token", error_description="{message}"'
        }
        if call.api == "arm":
            code = {
                "missing": "AuthenticationFailed",
                "expired": "ExpiredAuthenticationToken",
                "audience": "InvalidAuthenticationTokenAudience",
                "tenant": "InvalidAuthenticationTokenTenant",
            }.get(reason, "InvalidAuthenticationToken")
            return self.error(call, 401, message, code, headers)
        if call.api == "pc":
            return self.error(call, 401, f"Unauthorized: {message}", 800001, headers)
        if call.api == "graph":
            return self.error(call, 401, message, "InvalidAuthenticationToken", headers)
        return self.error(call, 401, message, None, headers)

    def throttle(self, call: Call, checks: list[tuple[Limit, str, int]]) -> dict[str, Decision]:
        settings = self.settings()
        decision, refused, seen = self.limiters().admit(checks, enforce=settings.enforce_limits)
        if refused is not None:
            reply = self.throttled_reply(call, decision.retry_after, refused)
            if call.api == "arm":
                reply.headers.update(self._arm_remaining(call, {refused.name: decision}))
            raise Answer(reply)
        return seen

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
        spec = call.world.faults.take(source.value, scope, identity=identity, call=f"page:{page}")
        if spec is None:
            return None
        with self._count_lock:
            self.faults_fired += 1
        if spec.kind == "truncated":
            return spec
        raise Answer(self.fault_reply(call, spec))

    def fault_single(
        self, call: Call, source: Source, scope: str, identity: str | None = None
    ) -> None:
        """A fault on a single object (not a listing): ``truncated`` cuts the body short."""
        if self.fault(call, source, scope, identity=identity) is not None:
            call.cut = True

    def fault_reply(self, call: Call, spec: FaultSpec) -> Reply:
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
            reply = self.throttled_reply(call, spec.retry_after or 1.0, PC_TENANT)
            if spec.retry_after is None:
                reply.headers.pop("Retry-After", None)
            reply.headers.update(headers)
            return reply
        if call.api == "login":
            return self.aad_error(
                spec.status,
                "invalid_client",
                "AADSTS7000215",
                "Invalid client secret provided (injected fault).",
                headers,
            )
        return self.error(
            call, spec.status, "The service is unavailable (injected fault).", None, headers
        )

    # -- listings ---------------------------------------------------------------------------

    def _window(
        self, call: Call, source: Source, size_arg: str | None, token: str | None
    ) -> tuple[int, int]:
        limit = source_row(source).page_size
        size = limit
        if size_arg:
            try:
                asked = int(size_arg)
            except ValueError:
                raise Answer(self.error(call, 400, f"invalid page size {size_arg!r}")) from None
            if asked > 0:
                size = min(asked, limit)
        offset = 0
        if token:
            decoded = _decode_token(token)
            if decoded is None:
                raise Answer(
                    self.error(
                        call,
                        400,
                        "The continuation token is expired or not valid.",
                        "InvalidSkipToken" if call.api in ("arm", "graph") else 400,
                    )
                )
            offset = decoded
        return offset, size

    def pc_listing(
        self,
        call: Call,
        source: Source,
        scope: str,
        items: Sequence[Any],
        self_path: str,
        query: dict[str, str],
        shape: Callable[[Any], dict[str, Any]] | None = None,
    ) -> Reply:
        """One page of a Partner Center collection; ``shape`` turns only that page's items
        into payloads (a 20,000-customer world stays cheap to page through)."""
        token = None
        if (call.req.arg("seekOperation") or "").lower() == "next":
            token = call.req.header("ms-continuationtoken")
            if not token:
                raise Answer(self.error(call, 400, "MS-ContinuationToken header is missing."))
        offset, size = self._window(call, source, call.req.arg("size"), token)
        page = offset // size + 1
        fault = self.fault(call, source, scope, page=page)
        chunk = [shape(x) if shape else x for x in items[offset : offset + size]]
        total = len(items)
        more = offset + size < total
        if fault is not None:
            more = False
            total = max(total, offset + len(chunk) + 1)
        params = dict(query, size=str(size))
        self_uri = f"{self_path}?{urlencode(params)}"
        next_uri = f"{self_uri}&seekOperation=Next" if more else None
        body = shapes.pc_collection(
            chunk, total, self_uri, next_uri, _encode_token(offset + size) if more else None
        )
        return json_reply(200, body)

    def graph_listing(
        self,
        call: Call,
        source: Source,
        scope: str,
        items: Sequence[Any],
        context: str,
        shape: Callable[[Any], dict[str, Any]] | None = None,
    ) -> Reply:
        offset, size = self._window(call, source, call.req.arg("$top"), call.req.arg("$skiptoken"))
        page = offset // size + 1
        fault = self.fault(call, source, scope, page=page)
        chunk = [shape(x) if shape else x for x in items[offset : offset + size]]
        total = len(items)
        more = offset + size < total
        if fault is not None:
            more = False
            total = max(total, offset + len(chunk) + 1)
        body: dict[str, Any] = {
            "@odata.context": f"https://graph.microsoft.com/v1.0/$metadata#{context}"
        }
        if (call.req.arg("$count") or "").lower() == "true":
            body["@odata.count"] = total
        body["value"] = chunk
        if more:
            params = {k: v[0] for k, v in call.req.query.items() if k.lower() != "$skiptoken"}
            params["$skiptoken"] = _encode_token(offset + size)
            body["@odata.nextLink"] = (
                f"{call.req.origin}{call.req.path}?{urlencode(params, quote_via=quote, safe='$')}"
            )
        return json_reply(200, body)

    def arm_listing(
        self,
        call: Call,
        source: Source,
        scope: str,
        items: list[dict[str, Any]],
    ) -> Reply:
        offset, size = self._window(call, source, call.req.arg("$top"), call.req.arg("$skiptoken"))
        page = offset // size + 1
        fault = self.fault(call, source, scope, page=page)
        chunk = items[offset : offset + size]
        more = offset + size < len(items)
        body: dict[str, Any] = {"value": chunk}
        params = {k: v[0] for k, v in call.req.query.items() if k.lower() != "$skiptoken"}
        if fault is not None:
            params["$skiptoken"] = "expired-" + _encode_token(offset + size)
            body["nextLink"] = f"{call.req.origin}{call.req.path}?{urlencode(params)}"
        elif more:
            params["$skiptoken"] = _encode_token(offset + size)
            body["nextLink"] = f"{call.req.origin}{call.req.path}?{urlencode(params)}"
        return json_reply(200, body)

    # -- per-API guards ---------------------------------------------------------------------

    def pc_guard(self, call: Call, *, customer: str | None = None, user: bool = False) -> None:
        principal = self.authenticate(call, (PC_AUDIENCE,))
        world = call.world
        if principal.tenant_id != world.partner_tenant:
            raise Answer(
                self._unauthorized(
                    call,
                    "tenant",
                    "A Partner Center token must be issued by the partner tenant.",
                    "Bearer",
                )
            )
        if call.identity != PARTNER_APP:
            raise Answer(self.error(call, 403, "Authorization Failed", 1002))
        key = world.partner_tenant if customer is None else f"{world.partner_tenant}/{customer}"
        self.throttle(call, [(PC_TENANT, key, 1)])
        if user and not principal.user:
            raise Answer(self.error(call, 403, "Authorization Failed", 1002))

    def pc_customer(self, call: Call) -> Any:
        tenant = call.params["cid"].lower()
        self.pc_guard(call, customer=tenant, user=call.params.get("_user") == "1")
        customer = call.world.customer(tenant)
        if customer is None or customer.relationship is None:
            raise Answer(
                self.error(call, 403, "No relationship between caller and account.", 20002)
            )
        return customer

    def graph_guard(self, call: Call, family: str, resource: str, needs: str) -> Principal:
        principal = self.authenticate(call, (GRAPH_AUDIENCE,))
        app, tenant = principal.app_id, principal.tenant_id
        checks: list[tuple[Limit, str, int]] = [(GRAPH_GLOBAL_APP, app, 1)]
        if family == "multi_tenant":
            checks += [
                (GRAPH_MULTI_TENANT_APP, f"{app}/{tenant}", 1),
                (GRAPH_MULTI_TENANT, tenant, 1),
            ]
        elif family == "reports":
            checks += [
                (GRAPH_REPORTS_APP, f"{app}/{tenant}/{resource}", 1),
                (GRAPH_REPORTS_TENANT, f"{tenant}/{resource}", 1),
            ]
        else:
            top = call.req.arg("$top")
            cost = graph_identity_cost(
                resource,
                select=call.req.arg("$select") is not None,
                top=int(top) if top and top.isdigit() else None,
            )
            checks += [
                (graph_identity_limit(call.world.users(tenant)), f"{app}/{tenant}", cost),
                (GRAPH_IDENTITY_APP, app, cost),
            ]
            call.headers["x-ms-resource-unit"] = str(cost)
        self.throttle(call, checks)
        if not principal.user:
            granted = set(principal.roles)
            if not granted.intersection(GRAPH_NEEDS[needs]):
                raise Answer(
                    self.error(
                        call,
                        403,
                        "Insufficient privileges to complete the operation.",
                        "Authorization_RequestDenied",
                    )
                )
        return principal

    def arm_guard(self, call: Call) -> Principal:
        principal = self.authenticate(call, ARM_AUDIENCES)
        limit = {"GET": ARM_READS, "DELETE": ARM_DELETES}.get(call.req.method, ARM_WRITES)
        key = f"{principal.object_id}/{principal.tenant_id}"
        seen = self.throttle(call, [(limit, key, 1)])
        call.headers.update(self._arm_remaining(call, seen))
        if not call.req.arg("api-version"):
            raise Answer(
                self.error(
                    call,
                    400,
                    "The api-version query parameter (?api-version=) is required for all requests.",
                    "MissingApiVersionParameter",
                )
            )
        return principal

    def _arm_remaining(self, call: Call, seen: dict[str, Decision]) -> dict[str, str]:
        out: dict[str, str] = {}
        for name, decision in seen.items():
            kind = name.split(".", 1)[1]
            out[f"x-ms-ratelimit-remaining-tenant-{kind}"] = str(decision.remaining)
        if "managementpartner" in call.req.path.lower():
            out["x-ms-ratelimit-remaining-tenant-resource-requests"] = str(
                min((d.remaining for d in seen.values()), default=0)
            )
        return out

    def insights_guard(self, call: Call) -> Principal:
        principal = self.authenticate(call, (PC_AUDIENCE,))
        world = call.world
        if principal.tenant_id != world.partner_tenant:
            raise Answer(
                self._unauthorized(
                    call,
                    "tenant",
                    "An Insights token must be issued by the partner tenant.",
                    "Bearer",
                )
            )
        self.throttle(call, [(INSIGHTS_TENANT, world.partner_tenant, 1)])
        if not principal.user or call.identity != PARTNER_APP:
            raise Answer(
                self.error(call, 403, "The caller needs a user token with the Report viewer role.")
            )
        return principal


# =============================================================================================
# Login (Entra ID)


def _tenant_or_refuse(svc: Service, call: Call) -> str:
    tenant = call.params["tenant"].lower()
    if not call.world.known_tenant(tenant):
        raise Answer(
            svc.aad_error(
                400,
                "invalid_tenant",
                "AADSTS90002",
                f"Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID "
                "and are signing into the correct cloud.",
            )
        )
    return tenant


@route("login", r"^/(?P<tenant>[^/]+)(?:/v2\.0)?/\.well-known/openid-configuration$")
def openid_configuration(svc: Service, call: Call) -> Reply:
    tenant = _tenant_or_refuse(svc, call)
    return json_reply(200, shapes.openid_configuration(call.req.origin, tenant))


@route("login", r"^/(?P<tenant>[^/]+)/oauth2/v2\.0/devicecode$", "POST")
def device_code(svc: Service, call: Call) -> Reply:
    tenant = _tenant_or_refuse(svc, call)
    form = call.req.form()
    client_id = (form.get("client_id") or "").lower()
    if call.world.app(client_id) is None:
        raise Answer(_unknown_app(svc, client_id, tenant))
    code = svc.authority.device_code(
        tenant_id=tenant, client_id=client_id, scope=form.get("scope", ""), lifetime=900
    )
    user_code = uuid.uuid4().hex[:9].upper()
    uri = f"{call.req.origin}/devicelogin"
    return json_reply(
        200,
        {
            "user_code": user_code,
            "device_code": code,
            "verification_uri": uri,
            "expires_in": 900,
            "interval": DEVICE_INTERVAL,
            "message": f"To sign in, use a web browser to open the page {uri} and enter the code "
            f"{user_code} to authenticate.",
        },
    )


@route("login", r"^/devicelogin$")
def device_login_page(svc: Service, call: Call) -> Reply:
    page = (
        b"<html><body><p>partnerlink emulator: device codes are approved automatically.</p>"
        b"</body></html>"
    )
    return Reply(200, page, content_type="text/html; charset=utf-8")


def _unknown_app(svc: Service, client_id: str, tenant: str) -> Reply:
    return svc.aad_error(
        400,
        "unauthorized_client",
        "AADSTS700016",
        f"Application with identifier '{client_id}' was not found in the directory "
        f"'{tenant}'. This can happen if the application has not been installed by the "
        "administrator of the tenant or consented to by any user in the tenant.",
    )


_REFUSAL_ERRORS = {
    "AADSTS700016": "unauthorized_client",
    "AADSTS7000229": "invalid_client",
    "AADSTS7000112": "unauthorized_client",
}


@route("login", r"^/(?P<tenant>[^/]+)/oauth2(?:/v2\.0)?/token$", "POST")
def token(svc: Service, call: Call) -> Reply:
    tenant = _tenant_or_refuse(svc, call)
    world = call.world
    form = call.req.form()
    grant = form.get("grant_type", "")
    basic = _basic_auth(call.req.header("authorization"))
    client_id = (form.get("client_id") or (basic[0] if basic else "")).lower()
    found = world.app(client_id)
    if found is None:
        return _unknown_app(svc, client_id, tenant)
    name, app = found
    scope = "partner" if tenant == world.partner_tenant else tenant
    spec = world.faults.take("login", scope, identity=name, call="token")
    if spec is not None:
        with svc._count_lock:
            svc.faults_fired += 1
        if spec.kind != "truncated":
            return svc.fault_reply(call, spec)
        call.cut = True  # the token answer is cut short on the wire
    try:
        certificate = _authenticate_client(
            svc, call, form, basic, app.client_secret, app.certificate_thumbprints, client_id, grant
        )
        refusal = sign_in_refusal(world.scenario, world.customer(tenant), name)
        if refusal is not None:
            raise TokenRefused(
                refusal.aadsts,
                _REFUSAL_ERRORS.get(refusal.aadsts, "invalid_client"),
                _refusal_text(refusal.aadsts, client_id, tenant),
                400,
            )
        scope_text = form.get("scope")
        device = None
        if grant == DEVICE_GRANT:
            if tenant != world.partner_tenant:
                raise TokenRefused(
                    "AADSTS50020", "invalid_grant", "User account does not exist in tenant."
                )
            # RFC 8628: the poll names no scope; the device code remembers it.
            device = svc.authority.poll_device_code(
                form.get("device_code", ""), client_id=client_id
            )
            scope_text = scope_text or device.scope
        resource, _offline = resource_of(scope_text, form.get("resource"))
        if resource is None:
            raise TokenRefused(
                "AADSTS90014",
                "invalid_request",
                "The request body must contain the following parameter: 'scope'.",
            )
        if resource not in RESOURCES:
            raise TokenRefused(
                "AADSTS500011",
                "invalid_resource",
                f"The resource principal named {resource} was not found in the tenant named "
                f"{tenant}. This can happen if the application has not been installed by the "
                "administrator of the tenant or consented to by any user in the tenant.",
            )
        if grant == "client_credentials":
            return _app_token(svc, call, tenant, name, client_id, resource, certificate)
        if grant == "refresh_token":
            grant_ = svc.authority.redeem_refresh_token(
                form.get("refresh_token", ""), tenant_id=tenant, client_id=client_id
            )
            return _user_token(
                svc,
                call,
                tenant,
                client_id,
                resource,
                grant_.user_oid,
                grant_.upn,
                certificate,
                form,
            )
        if device is not None:
            oid = user_object_id(tenant)
            form = {**form, "scope": scope_text or ""}
            return _user_token(
                svc, call, tenant, client_id, resource, oid, _upn(tenant), certificate, form
            )
        raise TokenRefused(
            "AADSTS70003",
            "unsupported_grant_type",
            f"The app requested an unsupported grant type '{grant}'.",
        )
    except TokenRefused as refused:
        return svc.aad_error(refused.status, refused.error, refused.aadsts, refused.description)


def _refusal_text(aadsts: str, client_id: str, tenant: str) -> str:
    return {
        "AADSTS7000229": f"The client application {client_id} is missing service principal in "
        f"the tenant {tenant}.",
        "AADSTS700016": f"Application with identifier '{client_id}' was not found in the "
        f"directory '{tenant}'.",
        "AADSTS7000112": f"Application '{client_id}' is disabled.",
    }.get(aadsts, "The sign-in was refused.")


def _upn(tenant: str) -> str:
    return f"admin@partner-{tenant[:8]}.onmicrosoft.com"


def _basic_auth(header: str | None) -> tuple[str, str] | None:
    if not header or not header.lower().startswith("basic "):
        return None
    try:
        raw = base64.b64decode(header[6:].strip()).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        return None
    user, _, password = raw.partition(":")
    return user, password


def _authenticate_client(
    svc: Service,
    call: Call,
    form: dict[str, str],
    basic: tuple[str, str] | None,
    secret: str,
    thumbprints: list[str],
    client_id: str,
    grant: str,
) -> bool:
    """Check the client's credential; True when it signed in with a certificate."""
    given = form.get("client_secret") or (basic[1] if basic else None)
    assertion = form.get("client_assertion")
    if given is not None:
        if not hmac.compare_digest(given.encode(), secret.encode()):
            raise TokenRefused(
                "AADSTS7000215",
                "invalid_client",
                "Invalid client secret provided. Ensure the secret being sent in the request is "
                f"the client secret value, not the client secret ID, for a secret added to app "
                f"'{client_id}'.",
                401,
            )
        return False
    if assertion is not None:
        if form.get("client_assertion_type") != CLIENT_ASSERTION_TYPE:
            raise TokenRefused(
                "AADSTS50027", "invalid_request", "client_assertion_type is not supported."
            )
        tenant = call.params["tenant"]
        origin = call.req.origin
        audiences = [
            f"{origin}/{tenant}/oauth2/v2.0/token",
            f"{origin}/{tenant}/oauth2/token",
            f"{origin}/{tenant}/v2.0",
        ]
        svc.authority.verify_assertion(
            assertion, client_id=client_id, thumbprints=thumbprints, audiences=audiences
        )
        return True
    if grant in ("refresh_token", DEVICE_GRANT):
        return False  # a public client flow: no client credential
    raise TokenRefused(
        "AADSTS7000218",
        "invalid_client",
        "The request body must contain the following parameter: 'client_assertion' or "
        "'client_secret'.",
        401,
    )


def _app_token(
    svc: Service,
    call: Call,
    tenant: str,
    name: str,
    client_id: str,
    resource: str,
    certificate: bool,
) -> Reply:
    world = call.world
    sp = world.service_principal(tenant, name)
    object_id = sp.object_id if sp else shapes.derived_id("sp", tenant, client_id)
    roles: tuple[str, ...] = ()
    if RESOURCES[resource] == "graph":
        found = world.app(client_id)
        assert found is not None
        granted = found[1].roles
        if granted is not None:
            roles = tuple(granted)
        elif name == PARTNER_APP:
            roles = DEFAULT_GRAPH_ROLES
    access = svc.authority.access_token(
        tenant_id=tenant,
        app_id=client_id,
        audience=resource,
        object_id=object_id,
        roles=roles,
        certificate=certificate,
    )
    return json_reply(
        200,
        {
            "token_type": "Bearer",
            "expires_in": 3599,
            "ext_expires_in": 3599,
            "access_token": access,
        },
    )


def _user_token(
    svc: Service,
    call: Call,
    tenant: str,
    client_id: str,
    resource: str,
    oid: str,
    upn: str,
    certificate: bool,
    form: dict[str, str],
) -> Reply:
    access = svc.authority.access_token(
        tenant_id=tenant,
        app_id=client_id,
        audience=resource,
        object_id=oid,
        user=(oid, upn),
        certificate=certificate,
    )
    scopes = [
        s
        for s in form.get("scope", "").split()
        if s not in ("openid", "profile", "offline_access", "email")
    ]
    body: dict[str, Any] = {
        "token_type": "Bearer",
        "scope": " ".join(scopes) or f"{resource}/{'user_impersonation'}",
        "expires_in": 3599,
        "ext_expires_in": 3599,
        "access_token": access,
        "refresh_token": svc.authority.refresh_token(
            tenant_id=tenant, client_id=client_id, user_oid=oid, upn=upn
        ),
    }
    if "openid" in form.get("scope", "").split():
        body["id_token"] = svc.authority.id_token(
            tenant_id=tenant,
            client_id=client_id,
            issuer=f"{call.req.origin}/{tenant}/v2.0",
            oid=oid,
            upn=upn,
        )
    if form.get("client_info") == "1":
        body["client_info"] = client_info(oid, tenant)
    return json_reply(200, body)


# =============================================================================================
# Partner Center


@route("pc", r"^/v1/customers$")
def pc_customers(svc: Service, call: Call) -> Reply:
    svc.pc_guard(call)
    customers = [c for c in call.world.scenario.customers if c.relationship is not None]
    query: dict[str, str] = {}
    raw = call.req.arg("filter")
    if raw:
        query["filter"] = raw
        try:
            spec = json.loads(raw)
            field_, value = str(spec["Field"]), str(spec["Value"]).lower()
        except (ValueError, KeyError, TypeError):
            raise Answer(svc.error(call, 400, "The filter is not valid.", 400)) from None
        if field_ == "CompanyName":
            customers = [c for c in customers if c.name.lower().startswith(value)]
        elif field_ == "Domain":
            customers = [c for c in customers if c.domain.lower().startswith(value)]
        elif field_ == "IndirectReseller":
            customers = [
                c
                for c in customers
                if c.indirect_reseller and (c.indirect_reseller.tenant_id or "").lower() == value
            ]
        else:
            raise Answer(svc.error(call, 400, f"Filtering on {field_} is not supported.", 400))
    return svc.pc_listing(
        call, Source.PC_CUSTOMERS, "partner", customers, "/customers", query, shapes.pc_customer
    )


@route("pc", r"^/v1/customers/(?P<cid>[^/]+)$")
def pc_customer_get(svc: Service, call: Call) -> Reply:
    customer = svc.pc_customer(call)
    return json_reply(200, shapes.pc_customer(customer))


@route("pc", r"^/v1/customers/(?P<cid>[^/]+)/subscriptions$")
def pc_subscriptions(svc: Service, call: Call) -> Reply:
    customer = svc.pc_customer(call)
    subs = customer.csp_subscriptions
    query: dict[str, str] = {}
    mpn = call.req.arg("mpn_id")
    if mpn:
        query["mpn_id"] = mpn
        subs = [s for s in subs if s.partner_id == mpn]
    items = [shapes.pc_subscription(customer, s) for s in subs]
    tenant = customer.tenant_id.lower()
    return svc.pc_listing(
        call, Source.PC_SUBSCRIPTIONS, tenant, items, f"/customers/{tenant}/subscriptions", query
    )


@route("pc", r"^/v1/customers/(?P<cid>[^/]+)/subscriptions/usagerecords$")
def pc_usage_records(svc: Service, call: Call) -> Reply:
    call.params["_user"] = "1"
    customer = svc.pc_customer(call)
    items = [shapes.pc_usage_record(a) for a in customer.azure_subscriptions]
    tenant = customer.tenant_id.lower()
    return svc.pc_listing(
        call, Source.PC_USAGE, tenant, items, f"/customers/{tenant}/subscriptions/usagerecords", {}
    )


@route("pc", r"^/v1/customers/(?P<cid>[^/]+)/analytics/licenses/usage$")
def pc_licence_usage(svc: Service, call: Call) -> Reply:
    call.params["_user"] = "1"
    customer = svc.pc_customer(call)
    items = [shapes.pc_licence_usage(customer, lu) for lu in customer.usage.licence_usage]
    tenant = customer.tenant_id.lower()
    return svc.pc_listing(
        call, Source.PC_USAGE, tenant, items, f"/customers/{tenant}/analytics/licenses/usage", {}
    )


def _day(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@route("pc", r"^/v1/auditrecords$")
def pc_audit_records(svc: Service, call: Call) -> Reply:
    svc.pc_guard(call)
    raw_start = call.req.arg("startDate")
    start = _day(raw_start)
    if start is None:
        raise Answer(svc.error(call, 400, "startDate is required (YYYY-MM-DD).", 400))
    query = {"startDate": raw_start or ""}
    raw_end = call.req.arg("endDate")
    end = _day(raw_end)
    if raw_end:
        query["endDate"] = raw_end
    events = [e for e in call.world.scenario.audit_events if e.date >= start]
    if end is not None:
        events = [e for e in events if e.date < end + timedelta(days=1)]
    raw_filter = call.req.arg("filter")
    if raw_filter:
        query["filter"] = raw_filter
        try:
            spec = json.loads(raw_filter)
            field_, value = str(spec["Field"]), str(spec["Value"]).lower()
        except (ValueError, KeyError, TypeError):
            raise Answer(svc.error(call, 400, "The filter is not valid.", 400)) from None
        if field_ == "CustomerId":
            events = [e for e in events if (e.customer_tenant_id or "").lower() == value]
        elif field_ == "ResourceType":
            events = [e for e in events if e.resource_type.lower() == value]
        else:
            raise Answer(svc.error(call, 400, f"Filtering on {field_} is not supported.", 400))
    events.sort(key=lambda e: e.date)
    scenario = call.world.scenario
    return svc.pc_listing(
        call,
        Source.PC_AUDIT,
        "partner",
        events,
        "/auditrecords",
        query,
        lambda e: shapes.pc_audit_record(scenario, e),
    )


# =============================================================================================
# Partner Center Insights

_QUERY = re.compile(
    r"^\s*SELECT\s+(?P<cols>.+?)\s+FROM\s+(?P<ds>\w+)(?:\s+WHERE\s+.+?)?"
    r"(?:\s+TIMESPAN\s+(?P<span>\w+))?\s*$",
    re.IGNORECASE | re.DOTALL,
)
_INSIGHTS = "/insights/v1/mpn"


@route("insights", rf"^{_INSIGHTS}/ScheduledDataset$")
def insights_datasets(svc: Service, call: Call) -> Reply:
    svc.insights_guard(call)
    wanted = call.req.arg("datasetName")
    names = [n for n in shapes.INSIGHTS_DATASETS if not wanted or n.lower() == wanted.lower()]
    return json_reply(
        200,
        shapes.insights_envelope(
            [shapes.insights_dataset(n) for n in names], message="Dataset fetched successfully"
        ),
    )


@route("insights", rf"^{_INSIGHTS}/ScheduledQueries$", "POST", "GET")
def insights_queries(svc: Service, call: Call) -> Reply:
    svc.insights_guard(call)
    world = call.world
    if call.req.method == "GET":
        with world.lock:
            value = list(world.queries.values())
        return json_reply(200, shapes.insights_envelope(value, message="Queries fetched"))
    body = call.req.json()
    text = body.get("Query") if isinstance(body, dict) else None
    match = _QUERY.match(text or "") if isinstance(text, str) else None
    if match is None:
        raise Answer(svc.error(call, 400, "Query is not valid: SELECT <columns> FROM <dataset>"))
    datasets = {n.lower(): n for n in shapes.INSIGHTS_DATASETS}
    dataset = datasets.get(match["ds"].lower())
    if dataset is None:
        raise Answer(svc.error(call, 400, f"Dataset {match['ds']} does not exist."))
    known = {c.lower(): c for c in shapes.INSIGHTS_COLUMNS}
    raw_cols = [c.strip() for c in match["cols"].split(",")]
    if raw_cols == ["*"]:
        columns = list(shapes.INSIGHTS_COLUMNS)
    else:
        unknown = [c for c in raw_cols if c.lower() not in known]
        if unknown:
            raise Answer(svc.error(call, 400, f"Columns not selectable: {', '.join(unknown)}"))
        columns = [known[c.lower()] for c in raw_cols]
    assert isinstance(body, dict)
    query = {
        "queryId": str(uuid.uuid4()),
        "name": str(body.get("Name", "")).strip(),
        "description": str(body.get("Description", "")),
        "query": text.strip() if isinstance(text, str) else "",
        "type": "userDefined",
        "user": _upn(world.partner_tenant),
        "createdTime": shapes.iso(_now()),
        "_dataset": dataset,
        "_columns": columns,
    }
    with world.lock:
        world.queries[str(query["queryId"])] = query
    return json_reply(
        200, shapes.insights_envelope([_public(query)], message="Query created successfully")
    )


def _public(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if not k.startswith("_")}


def _query_rows(call: Call, query: dict[str, Any]) -> list[dict[str, Any]]:
    rows = shapes.insights_rows(call.world.scenario, query["_dataset"])
    return [{c: row[c] for c in query["_columns"]} for row in rows]


def _find_query(svc: Service, call: Call, query_id: str | None) -> dict[str, Any]:
    with call.world.lock:
        query = call.world.queries.get(query_id or "")
    if query is None:
        raise Answer(svc.error(call, 404 if query_id else 400, f"Query {query_id} not found."))
    return query


@route("insights", rf"^{_INSIGHTS}/ScheduledQueries/testQueryResult$")
def insights_test_query(svc: Service, call: Call) -> Reply:
    svc.insights_guard(call)
    query = _find_query(svc, call, call.req.arg("queryId"))
    fault = svc.fault(call, Source.INSIGHTS, "partner")
    rows = _query_rows(call, query)[:100]
    total = len(rows) + (1 if fault is not None else 0)
    return json_reply(200, shapes.insights_envelope(rows, total=total))


@route("insights", rf"^{_INSIGHTS}/ScheduledReport$", "POST")
def insights_report(svc: Service, call: Call) -> Reply:
    svc.insights_guard(call)
    body = call.req.json()
    if not isinstance(body, dict):
        raise Answer(svc.error(call, 400, "The request body is not a JSON object."))
    query = _find_query(svc, call, str(body.get("QueryId") or ""))
    report = {
        "reportId": str(uuid.uuid4()),
        "reportName": str(body.get("ReportName", "")),
        "description": str(body.get("Description", "")),
        "queryId": query["queryId"],
        "query": query["query"],
        "user": query["user"],
        "createdTime": shapes.iso(_now()),
        "modifiedTime": None,
        "executeNow": bool(body.get("ExecuteNow", False)),
        "startTime": body.get("StartTime") or shapes.iso(_now()),
        "reportStatus": "Active",
        "recurrenceInterval": body.get("RecurrenceInterval", 24),
        "recurrenceCount": body.get("RecurrenceCount", 1),
        "callbackUrl": body.get("CallbackUrl"),
        "CallbackMethod": body.get("CallbackMethod"),
        "format": str(body.get("Format") or "csv").lower(),
    }
    with call.world.lock:
        call.world.reports[report["reportId"]] = report
    return json_reply(
        200, shapes.insights_envelope([report], message="Report created successfully")
    )


@route("insights", rf"^{_INSIGHTS}/ScheduledReport/execution/(?P<rid>[^/]+)$")
def insights_execution(svc: Service, call: Call) -> Reply:
    svc.insights_guard(call)
    with call.world.lock:
        report = call.world.reports.get(call.params["rid"])
    if report is None:
        raise Answer(svc.error(call, 404, f"Report {call.params['rid']} not found."))
    fault = svc.fault(call, Source.INSIGHTS, "partner")
    query = _find_query(svc, call, report["queryId"])
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=query["_columns"], lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(_query_rows(call, query))
    token = svc.downloads.add(out.getvalue().encode("utf-8"), "text/csv", cut=fault is not None)
    now = _now()
    link = f"{call.req.origin}/_downloads/{token}"
    execution = {
        "executionId": shapes.derived_id("execution", report["reportId"]),
        "reportId": report["reportId"],
        "recurrenceInterval": report["recurrenceInterval"],
        "recurrenceCount": report["recurrenceCount"],
        "callbackUrl": report["callbackUrl"],
        "CallbackMethod": report["CallbackMethod"],
        "format": report["format"],
        "executionStatus": "Completed",
        "reportLocation": link,
        "reportAccessSecureLink": link,
        "reportExpiryTime": shapes.iso(now + timedelta(seconds=svc.downloads.lifetime)),
        "reportGeneratedTime": shapes.iso(now),
    }
    return json_reply(200, shapes.insights_envelope([execution]))


# =============================================================================================
# Graph


@route("graph", r"^/(?:v1\.0|beta)/contracts$")
def graph_contracts(svc: Service, call: Call) -> Reply:
    svc.graph_guard(call, "identity", "contracts", "contracts")
    world = call.world
    customers = []
    if call.tenant == world.partner_tenant:
        customers = [c for c in world.scenario.customers if c.contract_type]
    return svc.graph_listing(
        call, Source.GRAPH_CONTRACTS, "partner", customers, "contracts", shapes.graph_contract
    )


_GDAP_FILTER = re.compile(
    r"^\s*(?P<field>status|customer/tenantId)\s+eq\s+'(?P<value>[^']*)'\s*$", re.IGNORECASE
)


@route("graph", r"^/(?:v1\.0|beta)/tenantRelationships/delegatedAdminRelationships$")
def graph_gdap(svc: Service, call: Call) -> Reply:
    svc.graph_guard(call, "multi_tenant", "delegatedAdminRelationships", "gdap")
    world = call.world
    pairs = []
    if call.tenant == world.partner_tenant:
        pairs = [(c, g) for c in world.scenario.customers for g in c.gdap]
    raw = call.req.arg("$filter")
    if raw:
        for clause in re.split(r"\s+and\s+", raw, flags=re.IGNORECASE):
            match = _GDAP_FILTER.match(clause)
            if match is None:
                raise Answer(svc.error(call, 400, f"Unsupported filter: {raw}"))
            value = match["value"].lower()
            if match["field"].lower() == "status":
                pairs = [(c, g) for c, g in pairs if g.status.lower() == value]
            else:
                pairs = [(c, g) for c, g in pairs if c.tenant_id.lower() == value]

    def shape(pair: tuple[CustomerSpec, Any]) -> dict[str, Any]:
        item = shapes.graph_gdap(*pair)
        if not pair[1].display_name:
            item.pop("displayName")
        return item

    return svc.graph_listing(
        call,
        Source.GRAPH_GDAP,
        "partner",
        pairs,
        "tenantRelationships/delegatedAdminRelationships",
        shape,
    )


@route(
    "graph",
    r"^/(?:v1\.0|beta)/tenantRelationships/delegatedAdminRelationships/(?P<rid>[^/]+)"
    r"/accessAssignments$",
)
def graph_access_assignments(svc: Service, call: Call) -> Reply:
    svc.graph_guard(call, "multi_tenant", "delegatedAdminRelationships", "gdap")
    world = call.world
    found = None
    if call.tenant == world.partner_tenant:
        found = next(
            (g for c in world.scenario.customers for g in c.gdap if g.id == call.params["rid"]),
            None,
        )
    if found is None:
        raise Answer(svc.error(call, 404, f"Resource '{call.params['rid']}' does not exist."))
    items = [shapes.graph_access_assignment(found, a) for a in found.access_assignments]
    return svc.graph_listing(
        call,
        Source.GRAPH_GDAP,
        "partner",
        items,
        f"tenantRelationships/delegatedAdminRelationships('{found.id}')/accessAssignments",
    )


@route("graph", r"^/(?:v1\.0|beta)/subscribedSkus$")
def graph_subscribed_skus(svc: Service, call: Call) -> Reply:
    svc.graph_guard(call, "identity", "subscribedSkus", "subscribedSkus")
    customer = call.world.customer(call.tenant)
    items = shapes.graph_skus(customer) if customer else []
    return svc.graph_listing(call, Source.GRAPH_SKUS, call.scope(), items, "subscribedSkus")


@route("graph", r"^/(?:v1\.0|beta)/directory/subscriptions$")
def graph_directory_subscriptions(svc: Service, call: Call) -> Reply:
    svc.graph_guard(call, "identity", "directory/subscriptions", "directory/subscriptions")
    world = call.world
    customer = world.customer(call.tenant)
    items = (
        [
            shapes.graph_directory_subscription(world.scenario, customer, lic)
            for lic in customer.licences
        ]
        if customer
        else []
    )
    return svc.graph_listing(
        call, Source.GRAPH_DIRECTORY_SUBSCRIPTIONS, call.scope(), items, "directory/subscriptions"
    )


_APP_FILTER = re.compile(r"^\s*appId\s+eq\s+'(?P<app>[^']+)'\s*$", re.IGNORECASE)


@route("graph", r"^/(?:v1\.0|beta)/servicePrincipals$")
def graph_service_principals(svc: Service, call: Call) -> Reply:
    svc.graph_guard(call, "identity", "servicePrincipals", "servicePrincipals")
    world = call.world
    customer = world.customer(call.tenant)
    sps = service_principals(world.scenario, customer) if customer else []
    raw = call.req.arg("$filter")
    if raw:
        match = _APP_FILTER.match(raw)
        if match is None:
            raise Answer(svc.error(call, 400, f"Unsupported filter: {raw}"))
        sps = [sp for sp in sps if sp.app_id == match["app"].lower()]
    items = [shapes.graph_service_principal(sp) for sp in sps]
    return svc.graph_listing(
        call, Source.GRAPH_IDENTITIES, call.scope(), items, "servicePrincipals"
    )


@route("graph", r"^/(?:v1\.0|beta)/applications\(appId='(?P<app>[^']+)'\)$")
def graph_application(svc: Service, call: Call) -> Reply:
    svc.graph_guard(call, "identity", "applications", "applications")
    world = call.world
    found = world.app(call.params["app"]) if call.tenant == world.partner_tenant else None
    svc.fault_single(call, Source.GRAPH_IDENTITIES, call.scope())
    if found is None:
        raise Answer(
            svc.error(
                call,
                404,
                f"Resource '{call.params['app']}' does not exist or "
                "one of its queried reference-property objects are "
                "not present.",
            )
        )
    body = {
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#applications/$entity",
        **shapes.graph_application(found[0], found[1], world.partner_tenant),
    }
    return json_reply(200, body)


@route(
    "graph",
    r"^/(?:v1\.0|beta)/reports/(?P<report>getOffice365ServicesUserCounts)"
    r"\(period='(?P<period>[^']*)'\)$",
)
def graph_report(svc: Service, call: Call) -> Reply:
    svc.graph_guard(call, "reports", call.params["report"], "reports")
    period = call.params["period"].upper()
    if period not in ("D7", "D30", "D90", "D180"):
        raise Answer(svc.error(call, 400, f"Invalid value '{period}' for parameter 'period'."))
    fault = svc.fault(call, Source.GRAPH_USAGE, call.scope())
    world = call.world
    customer = world.customer(call.tenant)
    if customer is None:
        customer = CustomerSpec(tenant_id=call.tenant, name="partner")
    content = shapes.office365_services_csv(customer, period)
    token = svc.downloads.add(content, "application/octet-stream", cut=fault is not None)
    return Reply(302, b"", {"Location": f"{call.req.origin}/_downloads/{token}"}, content_type=None)


# =============================================================================================
# ARM


@route("arm", r"^/subscriptions$")
def arm_subscriptions(svc: Service, call: Call) -> Reply:
    principal = svc.arm_guard(call)
    world = call.world
    customer = world.customer(principal.tenant_id)
    items = []
    if customer is not None and call.identity is not None:
        visible = set(visible_subscriptions(world.scenario, customer, call.identity))
        items = [
            shapes.arm_subscription(customer, a)
            for a in customer.azure_subscriptions
            if a.subscription_id.lower() in visible
        ]
    return svc.arm_listing(call, Source.ARM_SUBSCRIPTIONS, call.scope(), items)


def _pal_body(call: Call) -> dict[str, Any] | None:
    world = call.world
    identity = call.identity or "unknown"
    state = world.pal_state(call.tenant, identity)
    if state.partner_id is None:
        return None
    sp = world.service_principal(call.tenant, identity)
    object_id = sp.object_id if sp else (call.principal.object_id if call.principal else "")
    return shapes.arm_partner(
        state.partner_id,
        tenant_id=call.tenant,
        object_id=object_id,
        version=state.version,
        created=state.created,
        updated=state.updated,
    )


def _pal_not_found(svc: Service, call: Call) -> Answer:
    return Answer(
        json_reply(
            404, shapes.arm_error("ManagementPartnerNotFound", shapes.PAL_NOT_FOUND, top_level=True)
        )
    )


@route("arm", r"^/providers/Microsoft\.ManagementPartner/partners$")
def arm_pal(svc: Service, call: Call) -> Reply:
    svc.arm_guard(call)
    svc.fault_single(call, Source.ARM_PAL, call.scope(), identity=call.identity)
    body = _pal_body(call)
    if body is None:
        raise _pal_not_found(svc, call)
    return json_reply(200, body)


@route(
    "arm",
    r"^/providers/Microsoft\.ManagementPartner/partners/(?P<pid>[^/]+)$",
    "GET",
    "PUT",
    "PATCH",
    "DELETE",
)
def arm_pal_by_id(svc: Service, call: Call) -> Reply:
    svc.arm_guard(call)
    world = call.world
    identity = call.identity or "unknown"
    partner_id = call.params["pid"]
    current = world.pal_state(call.tenant, identity).partner_id
    method = call.req.method
    if method == "GET":
        svc.fault_single(call, Source.ARM_PAL, call.scope(), identity=call.identity)
        body = _pal_body(call)
        if body is None or current != partner_id:
            raise _pal_not_found(svc, call)
        return json_reply(200, body)
    if method == "DELETE":
        if current is None:
            return Reply(204, b"", content_type=None)
        world.set_pal(call.tenant, identity, None)
        log.info("emulator_pal_deleted", tenant=call.tenant, identity=identity)
        return Reply(200, b"", content_type=None)
    if not PARTNER_ID.match(partner_id):
        raise Answer(
            json_reply(
                400, shapes.arm_error("PartnerIdInvalid", shapes.PAL_INVALID, top_level=True)
            )
        )
    if method == "PATCH" and current is None:
        raise _pal_not_found(svc, call)
    world.set_pal(call.tenant, identity, partner_id)
    log.info("emulator_pal_set", tenant=call.tenant, identity=identity, partner_id=partner_id)
    body = _pal_body(call)
    return json_reply(200, body)


# =============================================================================================
# Downloads (pre-authenticated: no Authorization header, like Graph's report links)


@route("download", r"^/_downloads/(?P<token>[^/]+)$")
def download(svc: Service, call: Call) -> Reply:
    item = svc.downloads.get(call.params["token"])
    if item is None:
        return Reply(
            403,
            b"AuthenticationFailed: the link has expired or is not valid.",
            content_type="text/plain; charset=utf-8",
        )
    reply = Reply(200, item.content, content_type=item.content_type)
    if item.cut:
        reply.action = "cut"
    return reply
