"""Who may read the report: the holders of the configured bearer token, or anyone where the
operator turned that on. Tokens are compared in constant time and never logged or echoed."""

from __future__ import annotations

import hashlib
import hmac
from enum import Enum

from pydantic import SecretStr


class Verdict(Enum):
    ALLOWED = "allowed"
    OFF = "off"  # neither a token nor anonymous access is configured
    MISSING = "missing"  # no bearer credentials presented
    WRONG = "wrong"  # bearer credentials presented, not the token


class ReportAccess:
    def __init__(self, token: SecretStr | None, *, anonymous: bool) -> None:
        self.anonymous = anonymous
        # Only a digest is kept: equal-length inputs to compare_digest hide the token's length.
        self._digest = _digest(token.get_secret_value()) if token is not None else None

    @property
    def mode(self) -> str:
        if self.anonymous:
            return "anonymous"
        return "token" if self._digest is not None else "off"

    def check(self, authorization: str | None) -> Verdict:
        """The verdict on an ``Authorization`` header value (``None`` when absent)."""
        if self.anonymous:
            return Verdict.ALLOWED
        if self._digest is None:
            return Verdict.OFF
        scheme, _, presented = (authorization or "").strip().partition(" ")
        if scheme.lower() != "bearer" or not presented.strip():
            return Verdict.MISSING
        if hmac.compare_digest(_digest(presented.strip()), self._digest):
            return Verdict.ALLOWED
        return Verdict.WRONG


def _digest(token: str) -> bytes:
    # WSGI hands headers over as latin-1 strings; configured tokens are ASCII, so both agree.
    return hashlib.sha256(token.encode("latin-1", errors="replace")).digest()
