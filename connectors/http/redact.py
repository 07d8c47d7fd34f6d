"""What the HTTP plumbing writes to a log or an error is made safe first: API strings with CR/LF
escaped and their length capped, URLs without their query string (it may carry a
pre-authenticated signature), and errors without a bearer token or anything JWT-shaped.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import httpx

from connectors.errors import ConnectorError

__all__ = ["escape", "loggable_url", "sanitise"]


def escape(text: object, limit: int = 300) -> str:
    """An API string made safe for a log line: CR/LF escaped, length capped (guarantee
    no-secrets-out)."""
    value = str(text).replace("\r", "\\r").replace("\n", "\\n")
    return value if len(value) <= limit else value[:limit] + "..."


def loggable_url(url: str | httpx.URL) -> str:
    """Scheme, host and path only: query strings may carry a pre-authenticated signature."""
    parts = urlsplit(str(url))
    return escape(f"{parts.scheme}://{parts.netloc}{parts.path}")


_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*")


def sanitise(error: ConnectorError, token: str | None = None) -> ConnectorError:
    """An error safe to log and store: no bearer token (even one an API echoes back), nothing
    JWT-shaped, CR/LF escaped in the message and code (guarantee no-secrets-out)."""
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
