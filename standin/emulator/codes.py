"""The emulator's authorization codes: what ``/authorize`` approved, redeemed once at the token
endpoint by the client it was issued to, with the redirect URI it was issued for and the PKCE
verifier of its challenge (RFC 7636), as Entra does.

Entra's answers: a code redeemed twice AADSTS54005, expired AADSTS70008, unknown or issued to
another client AADSTS70000, a PKCE verifier that does not match AADSTS50148."""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from dataclasses import dataclass

from standin.emulator.tokens import TokenRefused, b64url

CODE_LIFETIME = 600.0
"""Seconds a code stays redeemable (Entra: about ten minutes)."""


@dataclass(frozen=True, slots=True)
class Approval:
    """A sign-in ``/authorize`` approved: for whom, for which client, what to put in the ID
    token."""

    tenant_id: str
    client_id: str
    redirect_uri: str
    scope: str
    nonce: str | None
    challenge: str | None
    method: str
    oid: str
    upn: str
    name: str


@dataclass
class _Issued:
    approval: Approval
    expires: float
    redeemed: bool = False


class AuthorizationCodes:
    """Codes issued and redeemed. Thread-safe."""

    def __init__(self, lifetime: float = CODE_LIFETIME) -> None:
        self.lifetime = lifetime
        self._codes: dict[str, _Issued] = {}
        self._lock = threading.Lock()

    def issue(self, approval: Approval) -> str:
        code = "1.AR" + secrets.token_urlsafe(48)
        with self._lock:
            self._codes[code] = _Issued(approval, time.monotonic() + self.lifetime)
        return code

    def redeem(
        self, code: str, *, client_id: str, tenant_id: str, redirect_uri: str, verifier: str
    ) -> Approval:
        """The approval behind ``code``, once; raises :class:`TokenRefused` as Entra would."""
        with self._lock:
            issued = self._codes.get(code)
            if issued is None or issued.approval.client_id != client_id:
                raise TokenRefused(
                    "AADSTS70000", "invalid_grant", "Provided grant is invalid or malformed."
                )
            if issued.redeemed:
                raise TokenRefused(
                    "AADSTS54005",
                    "invalid_grant",
                    "OAuth2 Authorization code was already redeemed.",
                )
            if issued.expires < time.monotonic():
                raise TokenRefused(
                    "AADSTS70008",
                    "invalid_grant",
                    "The provided authorization code or refresh token has expired due to "
                    "inactivity.",
                )
            issued.redeemed = True
        approval = issued.approval
        if approval.tenant_id != tenant_id or approval.redirect_uri != redirect_uri:
            raise TokenRefused(
                "AADSTS70000",
                "invalid_grant",
                "The code was issued for another tenant or redirect URI.",
            )
        if approval.challenge is not None and not _proves(approval, verifier):
            raise TokenRefused(
                "AADSTS50148",
                "invalid_grant",
                "The code_verifier does not match the code_challenge supplied in the "
                "authorization request for PKCE.",
            )
        return approval


def _proves(approval: Approval, verifier: str) -> bool:
    if approval.method == "plain":
        expected = verifier
    else:
        expected = b64url(hashlib.sha256(verifier.encode("ascii", "replace")).digest())
    return secrets.compare_digest(expected, approval.challenge or "")
