"""Webhook signatures a receiver can check for origin, integrity and freshness.

The HMAC covers ``"<timestamp>.<body>"``, so a captured delivery cannot be replayed once its
timestamp leaves the tolerance. Standard library only, no project imports: receivers may copy
this file as it is.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence

TIMESTAMP_HEADER = "X-Partnerlink-Timestamp"
SIGNATURE_HEADER = "X-Partnerlink-Signature"
SCHEME = "v1"
TOLERANCE = 300
"""Seconds a delivery may be older (or newer, for clock skew) than the receiver's clock."""

_MAX_TIMESTAMP_DIGITS = 12


class SignatureError(ValueError):
    """A delivery to reject; the message says why and never holds a secret or a signature."""


def signed_string(timestamp: int | str, body: bytes) -> bytes:
    """The exact bytes signed: the timestamp in decimal, a dot, then the raw body."""
    return str(timestamp).encode("ascii") + b"." + body


def signature(secret: str, timestamp: int | str, body: bytes) -> str:
    """Hex HMAC-SHA256 of :func:`signed_string`, keyed with ``secret`` (UTF-8)."""
    key = secret.encode("utf-8")
    return hmac.new(key, signed_string(timestamp, body), hashlib.sha256).hexdigest()


def sign(secrets: str | Sequence[str], body: bytes, timestamp: int) -> dict[str, str]:
    """The two headers for one delivery: one ``v1=`` entry per secret (several while a secret
    is being rotated), comma-separated, so a receiver holding any one of them accepts it."""
    keys = [secrets] if isinstance(secrets, str) else list(secrets)
    if not keys:
        raise ValueError("at least one secret is needed to sign")
    entries = ",".join(f"{SCHEME}={signature(key, timestamp, body)}" for key in keys)
    return {TIMESTAMP_HEADER: str(timestamp), SIGNATURE_HEADER: entries}


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    for key, value in headers.items():
        if key.lower() == wanted:
            return value
    return None


def _timestamp(headers: Mapping[str, str]) -> str:
    value = _header(headers, TIMESTAMP_HEADER)
    if value is None or not value.strip():
        raise SignatureError(f"missing {TIMESTAMP_HEADER} header")
    value = value.strip()
    if not (value.isascii() and value.isdigit() and len(value) <= _MAX_TIMESTAMP_DIGITS):
        raise SignatureError(f"{TIMESTAMP_HEADER} is not a Unix time in seconds")
    return value


def _candidates(headers: Mapping[str, str]) -> list[str]:
    value = _header(headers, SIGNATURE_HEADER)
    if value is None or not value.strip():
        raise SignatureError(f"missing {SIGNATURE_HEADER} header")
    found = []
    for entry in value.split(","):
        scheme, _, digest = entry.strip().partition("=")
        if scheme == SCHEME and digest:
            found.append(digest.strip())
    if not found:
        raise SignatureError(f"no {SCHEME}= signature in {SIGNATURE_HEADER}")
    return found


def verify(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    now: float,
    tolerance: float = TOLERANCE,
) -> int:
    """Check a received delivery; returns its timestamp, raises :class:`SignatureError`.

    ``body`` is the raw request body as received (before any JSON parsing); ``now`` is the
    receiver's clock in Unix seconds (``time.time()``). Header names match case-insensitively.
    """
    timestamp = _timestamp(headers)
    expected = signature(secret, timestamp, body).encode("ascii")
    # Bytes, not str: compare_digest refuses non-ASCII str, and a header is attacker input.
    if not any(
        hmac.compare_digest(expected, c.encode("utf-8", "replace")) for c in _candidates(headers)
    ):
        raise SignatureError("signature does not match")
    sent = int(timestamp)
    if sent < now - tolerance:
        raise SignatureError(f"timestamp is more than {tolerance:g} s old: possible replay")
    if sent > now + tolerance:
        raise SignatureError(f"timestamp is more than {tolerance:g} s in the future")
    return sent
