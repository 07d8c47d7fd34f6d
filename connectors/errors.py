"""The one error tree of every connector, and the one place that maps an HTTP answer to it.

::

    ConnectorError                 a read could not be completed; the scope is "cannot verify"
    ├── TransientError             worth retrying: 429, 5xx, timeouts (carries retry_after)
    │   └── ThrottledError         429 / throttling 503 specifically
    ├── PermanentError             retrying will not help: 400, 403, 404 where data was expected
    │   ├── MalformedResponse      the body is not what the API documents
    │   └── IncompleteListing      a paged listing could not be finished (never a short list)
    └── AuthError                  no token, or the token was refused (AADSTS code, correlation id)

Messages carry what a person needs to act and never a secret: no tokens, no bodies of token
answers, no query strings of pre-authenticated URLs.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from connectors.retry_after import parse_retry_after


class ConnectorError(Exception):
    """A read that did not complete. ``retryable`` says whether trying again can help."""

    retryable = False

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.request_id = request_id

    @property
    def kind(self) -> str:
        """A short name for the status table: ``transient``, ``permanent`` or ``auth``."""
        return "connector"

    def __str__(self) -> str:
        parts = [self.message]
        if self.status is not None:
            parts.append(f"(HTTP {self.status}")
            parts[-1] += f", {self.code})" if self.code else ")"
        elif self.code:
            parts.append(f"({self.code})")
        return " ".join(parts)


class TransientError(ConnectorError):
    """Worth retrying after ``retry_after`` seconds (or a backoff when it is ``None``)."""

    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after

    @property
    def kind(self) -> str:
        return "transient"


class ThrottledError(TransientError):
    """The service asked us to slow down (429, or 503 with ``Retry-After``)."""


class PermanentError(ConnectorError):
    """Retrying the same request will not help."""

    @property
    def kind(self) -> str:
        return "permanent"


class MalformedResponse(PermanentError):
    """The answer does not have the documented shape."""


class IncompleteListing(PermanentError):
    """A paged listing stopped before its end: treat the whole listing as unread."""


class AuthError(ConnectorError):
    """No usable token, or the service refused it.

    ``aadsts`` is the Entra error code (``AADSTS7000215`` ...) where the identity platform gave
    one, ``correlation_id`` the id a support case needs.
    """

    def __init__(
        self,
        message: str,
        *,
        aadsts: str | None = None,
        correlation_id: str | None = None,
        **kw: Any,
    ) -> None:
        super().__init__(message, **kw)
        self.aadsts = aadsts
        self.correlation_id = correlation_id

    @property
    def kind(self) -> str:
        return "auth"

    def __str__(self) -> str:
        text = super().__str__()
        if self.aadsts:
            text += f" [{self.aadsts}]"
        if self.correlation_id:
            text += f" correlation id {self.correlation_id}"
        return text


_AADSTS = re.compile(r"AADSTS\d+")


def aadsts_code(text: str | None) -> str | None:
    """The first ``AADSTS<n>`` code in an error description, if any."""
    if not text:
        return None
    match = _AADSTS.search(text)
    return match.group(0) if match else None


def _error_code(body: Any) -> str | None:
    """The error code of any Microsoft error body: Graph/ARM ``error.code``, Partner Center
    ``code``, or the identity platform's ``error``."""
    if not isinstance(body, Mapping):
        return None
    nested = body.get("error")
    if isinstance(nested, Mapping) and nested.get("code") is not None:
        return str(nested["code"])
    if isinstance(nested, str):
        return nested
    for key in ("code", "statusCode"):
        if body.get(key) is not None:
            return str(body[key])
    return None


def _error_message(body: Any) -> str | None:
    if not isinstance(body, Mapping):
        return None
    nested = body.get("error")
    if isinstance(nested, Mapping) and nested.get("message"):
        return str(nested["message"])
    for key in ("description", "message", "error_description"):
        if body.get(key):
            return str(body[key]).splitlines()[0]
    return None


# ARM answers 429 with this code for a conflicting operation: a plain retry, not throttling
# (guarantee arm-budget).
_ARM_RETRY_CODES = frozenset({"RetryableErrorDueToAnotherOperation"})


def error_for_status(
    status: int,
    *,
    body: Any = None,
    headers: Mapping[str, str] | None = None,
    what: str = "request",
    request_id: str | None = None,
) -> ConnectorError:
    """Map a non-success HTTP answer to the error tree. The single place that does so."""
    headers = headers or {}
    retry_after = parse_retry_after(headers.get("retry-after") or headers.get("Retry-After"))
    code = _error_code(body)
    detail = _error_message(body)
    message = f"{what} failed" + (f": {_escape(detail)}" if detail else "")
    kw: dict[str, Any] = {"status": status, "code": code, "request_id": request_id}
    if status == 429:
        if code in _ARM_RETRY_CODES:
            return TransientError(message, retry_after=retry_after, **kw)
        return ThrottledError(message, retry_after=retry_after, **kw)
    if status == 503 and retry_after is not None:
        return ThrottledError(message, retry_after=retry_after, **kw)
    if status >= 500 or status in (408, 425):
        return TransientError(message, retry_after=retry_after, **kw)
    if status == 401:
        return AuthError(message, aadsts=aadsts_code(detail), **kw)
    if status == 403:
        return AuthError(message, **kw)
    return PermanentError(message, **kw)


def _escape(text: str) -> str:
    """API strings reach logs: escape CR/LF so a payload cannot forge log lines (guarantee
    no-secrets-out)."""
    return text.replace("\r", "\\r").replace("\n", "\\n")[:300]
