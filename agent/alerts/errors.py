"""The delivery error tree, and the one place that maps an HTTP answer or exception to it.

::

    DeliveryError                 a message did not reach the sink
    ├── TransientDeliveryError    retrying can help: 408, 425, 429, 5xx, timeouts, connection
    │                             errors, SMTP 4xx (carries retry_after when the server said)
    └── PermanentDeliveryError    retrying cannot help: other 4xx, redirects, a refused
                                  destination (guarantee safe-urls), SMTP 5xx, bad credentials

Messages never contain a URL, a header value or a secret; response bodies are cut short and
scrubbed, since some services echo the request back.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import httpx

from agent.alerts.urls import BlockedDestination
from connectors.retry_after import parse_retry_after


class DeliveryError(Exception):
    """A send that did not succeed. ``retryable`` says whether trying again can help."""

    retryable = False

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class TransientDeliveryError(DeliveryError):
    retryable = True

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, status=status)
        self.retry_after = retry_after


class PermanentDeliveryError(DeliveryError):
    retryable = False


_TRANSIENT_STATUS = frozenset({408, 425, 429})


def scrub_text(text: str, secrets: Iterable[str], limit: int = 200) -> str:
    """One line, at most ``limit`` characters, with every given secret masked."""
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, "**********")
    text = text.replace("\r", " ").replace("\n", " ").strip()
    return text[:limit] + ("…" if len(text) > limit else "")


def error_for_response(
    response: httpx.Response,
    *,
    secrets: Iterable[str] = (),
    now: datetime | None = None,
) -> DeliveryError | None:
    """``None`` for a 2xx answer, else the error it means."""
    status = response.status_code
    if 200 <= status < 300:
        return None
    secrets = tuple(secrets)
    try:
        body = scrub_text(response.text, secrets, 120) if response.content else ""
    except (UnicodeDecodeError, httpx.ResponseNotRead):
        body = ""
    detail = f"HTTP {status}" + (f": {body}" if body else "")
    if 300 <= status < 400:
        return PermanentDeliveryError(f"{detail} (redirects are not followed)", status=status)
    if status in _TRANSIENT_STATUS or status >= 500:
        retry_after = parse_retry_after(response.headers.get("Retry-After"), now=now)
        return TransientDeliveryError(detail, status=status, retry_after=retry_after)
    return PermanentDeliveryError(detail, status=status)


def error_for_exception(exc: BaseException, *, secrets: Iterable[str] = ()) -> DeliveryError:
    """An exception raised while sending, as a delivery error (never echoing the URL)."""
    if isinstance(exc, DeliveryError):
        return exc
    name = type(exc).__name__
    if isinstance(exc, BlockedDestination):
        return PermanentDeliveryError(scrub_text(str(exc), secrets))
    if isinstance(exc, httpx.TimeoutException):
        return TransientDeliveryError(f"timed out ({name})")
    if isinstance(exc, httpx.NetworkError | httpx.RemoteProtocolError | httpx.ProxyError):
        return TransientDeliveryError(f"connection failed ({name})")
    if isinstance(exc, httpx.UnsupportedProtocol | httpx.InvalidURL | httpx.LocalProtocolError):
        return PermanentDeliveryError(f"cannot send to this URL ({name})")
    if isinstance(exc, httpx.HTTPError | OSError):
        return TransientDeliveryError(f"transport error ({name})")
    return PermanentDeliveryError(f"unexpected error ({name})")
