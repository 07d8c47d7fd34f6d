"""How each API says no: its error body, its 401 and its 429, as Microsoft answers them.

The shape follows the API a call belongs to (``Call.api``), so a client reading Partner Center,
Graph or ARM meets the error documents its connector was written against.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from standin.emulator.limits import Limit, retry_after_header
from standin.emulator.routing import Call
from standin.emulator.shapes.arm import arm_error
from standin.emulator.shapes.graph import graph_error
from standin.emulator.shapes.insights import insights_envelope
from standin.emulator.shapes.login import aad_error as aad_error_body
from standin.emulator.shapes.partner_center import pc_error, pc_throttled
from standin.emulator.wire import Reply, json_reply

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

ARM_ERROR_CODES: dict[int, str] = {
    400: "BadRequest",
    401: "AuthenticationFailed",
    403: "AuthorizationFailed",
    404: "NotFound",
    405: "MethodNotAllowed",
}

ARM_TOKEN_CODES: dict[str, str] = {
    "missing": "AuthenticationFailed",
    "expired": "ExpiredAuthenticationToken",
    "audience": "InvalidAuthenticationTokenAudience",
    "tenant": "InvalidAuthenticationTokenTenant",
}
"""ARM's error code for each reason a bearer token is refused."""


def _stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def error(
    call: Call,
    status: int,
    message: str,
    code: str | int | None = None,
    headers: dict[str, str] | None = None,
) -> Reply:
    """An error in the shape of the call's API; ``code`` overrides the API's code for ``status``."""
    api = call.api
    extra = dict(headers or {})
    if api in ("pc",):
        pc_code = code if isinstance(code, int) else status
        return json_reply(status, pc_error(pc_code, message), extra)
    if api == "insights":
        return json_reply(status, insights_envelope([], message=message, status=status), extra)
    if api == "graph":
        graph_code = (
            str(code) if code is not None else GRAPH_ERROR_CODES.get(status, "UnknownError")
        )
        return json_reply(
            status, graph_error(graph_code, message, call.req.request_id, _stamp()), extra
        )
    if api == "arm":
        arm_code = (
            str(code) if code is not None else ARM_ERROR_CODES.get(status, "InternalServerError")
        )
        return json_reply(status, arm_error(arm_code, message), extra)
    if api == "login":
        return aad_error(
            status,
            "invalid_request",
            "AADSTS900561" if status == 405 else "AADSTS90000",
            message,
        )
    return json_reply(status, {"error": {"code": str(code or status), "message": message}}, extra)


def aad_error(
    status: int,
    error: str,
    aadsts: str,
    description: str,
    headers: dict[str, str] | None = None,
) -> Reply:
    """Entra ID's token-endpoint error, with a fresh trace and correlation id."""
    body = aad_error_body(
        error,
        aadsts,
        description,
        trace_id=str(uuid.uuid4()),
        correlation_id=str(uuid.uuid4()),
        now=datetime.now(UTC),
    )
    return json_reply(status, body, headers)


def unauthorized(call: Call, reason: str, message: str, realm: str) -> Reply:
    """A 401 naming why the bearer token was refused, with its ``WWW-Authenticate`` challenge."""
    headers = {"WWW-Authenticate": f'{realm}, error="invalid_token", error_description="{message}"'}
    if call.api == "arm":
        code = ARM_TOKEN_CODES.get(reason, "InvalidAuthenticationToken")
        return error(call, 401, message, code, headers)
    if call.api == "pc":
        return error(call, 401, f"Unauthorized: {message}", 800001, headers)
    if call.api == "graph":
        return error(call, 401, message, "InvalidAuthenticationToken", headers)
    return error(call, 401, message, None, headers)


def throttled(call: Call, seconds: float, limit: Limit) -> Reply:
    """A 429 in the call's API's throttling shape, with ``Retry-After``."""
    api = call.api
    if api == "graph":
        return _graph_throttled(call, seconds, limit)
    value = retry_after_header(seconds, fractional=False)
    if api == "pc":
        return json_reply(429, pc_throttled(value), {"Retry-After": value})
    if api == "insights":
        message = f"Rate limit is exceeded. Try again in {value} seconds."
        return json_reply(
            429, insights_envelope([], message=message, status=429), {"Retry-After": value}
        )
    return json_reply(
        429,
        arm_error(
            "TooManyRequests",
            f"The request is being throttled as the limit has been reached for operation "
            f"type - {limit.name}. Retry after {value} seconds.",
        ),
        {"Retry-After": value},
    )


def _graph_throttled(call: Call, seconds: float, limit: Limit) -> Reply:
    body = {
        "error": {
            "code": "TooManyRequests",
            "innerError": {
                "code": "429",
                "date": _stamp(),
                "message": "Please retry after",
                "request-id": call.req.request_id,
                "status": "429",
            },
            "message": "Please retry again later.",
        }
    }
    headers = {
        "Retry-After": retry_after_header(seconds, fractional=True),
        "x-ms-throttle-scope": f"{limit.name}/{limit.scope}",
        "x-ms-throttle-information": "ResourceUnitLimitExceeded"
        if limit.algorithm == "bucket"
        else "RequestLimitExceeded",
    }
    return json_reply(429, body, headers)
