"""What an answer from Microsoft means: a success is the JSON object it documents, anything else
is the connector error its status, body and headers say
(:func:`connectors.errors.error_for_status`).
"""

from __future__ import annotations

from typing import Any, Protocol

from connectors.errors import ConnectorError, MalformedResponse, error_for_status
from connectors.http.redact import escape
from connectors.http.request import ApiRequest

__all__ = ["Readable", "error_of", "json_object"]


class Readable(Protocol):
    """An answer read whole: an :class:`~connectors.http.answer.Answer` or an
    ``httpx.Response``."""

    @property
    def status_code(self) -> int: ...

    @property
    def headers(self) -> Any: ...

    def json(self) -> Any: ...


def _body_of(response: Readable) -> Any:
    """The decoded error body when it is JSON; ``None`` otherwise."""
    try:
        return response.json()
    except (ValueError, UnicodeDecodeError):
        return None


def _request_id_of(response: Readable) -> str | None:
    """Microsoft's id of the request, from whichever header its API sends it in."""
    for name in ("MS-RequestId", "x-ms-request-id", "request-id", "x-ms-correlation-request-id"):
        value = response.headers.get(name)
        if value:
            return escape(value, 100)
    return None


def error_of(request: ApiRequest, response: Readable) -> ConnectorError:
    """The error a non-success answer to ``request`` is, named by the request's ``what`` and
    carrying Microsoft's request id for a support case."""
    return error_for_status(
        response.status_code,
        body=_body_of(response),
        headers=response.headers,
        what=request.what,
        request_id=_request_id_of(response),
    )


def json_object(response: Readable, what: str) -> dict[str, Any]:
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
