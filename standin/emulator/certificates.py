"""Certificate sign-in as Entra checks it: the app's registered certificates and the signed
client assertion (``private_key_jwt``) a client presents instead of a secret.

The assertion's ``x5t`` (SHA-1) or ``x5t#S256`` names a certificate; that certificate must be
registered on the app (its SHA-1 thumbprint in the scenario's ``certificate_thumbprints``), and
its public key must verify the assertion. The certificate itself comes from the assertion's
``x5c`` header (Subject Name/Issuer style; MSAL sends it with ``public_certificate``) or from
:meth:`Certificates.register` (the app registration's uploaded public key).
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Mapping
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from standin.emulator.tokens import TokenRefused, b64url


def sha1_thumbprint(cert: x509.Certificate) -> str:
    """The certificate's SHA-1 thumbprint as Entra shows it (upper-case hex)."""
    return cert.fingerprint(hashes.SHA1()).hex().upper()  # noqa: S303 - Entra's x5t is SHA-1


class Certificates:
    """The public certificates uploaded to app registrations. Thread-safe."""

    def __init__(self) -> None:
        self._certs: dict[str, x509.Certificate] = {}
        self._lock = threading.Lock()

    def register(self, pem: bytes | str) -> str:
        """Upload a public certificate (as an app registration would); returns its SHA-1."""
        data = pem.encode("ascii") if isinstance(pem, str) else pem
        cert = x509.load_pem_x509_certificate(data)
        thumb = sha1_thumbprint(cert)
        with self._lock:
            self._certs[thumb] = cert
        return thumb

    def verify_assertion(
        self, assertion: str, *, client_id: str, thumbprints: list[str], audiences: list[str]
    ) -> None:
        """Check a ``private_key_jwt`` client assertion; raise :class:`TokenRefused`."""
        try:
            header = jwt.get_unverified_header(assertion)
        except jwt.PyJWTError:
            raise TokenRefused(
                "AADSTS50027", "invalid_request", "JWT token is invalid or malformed."
            ) from None
        cert = self._signing_certificate(header, thumbprints)
        if cert is None:
            raise TokenRefused(
                "AADSTS700027",
                "invalid_client",
                "The certificate with identifier used to sign the client assertion is not "
                f"registered on application. [Reason - The key was not found., Thumbprint of "
                f"key used by client: '{_thumb_text(header)}'",
                401,
            )
        claims = _verified_claims(assertion, cert, audiences)
        if claims.get("iss") != client_id or claims.get("sub") != client_id:
            raise TokenRefused(
                "AADSTS700023",
                "invalid_client",
                "Client assertion issuer or subject is not the client id.",
                401,
            )

    def _signing_certificate(
        self, header: Mapping[str, Any], thumbprints: list[str]
    ) -> x509.Certificate | None:
        """The registered certificate the assertion's header names, if any."""
        registered = {t.replace(":", "").upper() for t in thumbprints}
        candidates: list[x509.Certificate] = []
        for der in header.get("x5c") or []:
            try:
                candidates.append(x509.load_der_x509_certificate(base64.b64decode(der)))
            except (ValueError, TypeError):
                continue
        with self._lock:
            candidates.extend(self._certs.values())
        for candidate in candidates:
            thumb = sha1_thumbprint(candidate)
            if thumb not in registered:
                continue
            sha1 = bytes.fromhex(thumb)
            sha256 = candidate.fingerprint(hashes.SHA256())
            # MSAL keeps the base64 padding of the thumbprint; Entra accepts it either way.
            x5t = str(header.get("x5t") or "").rstrip("=")
            x5t256 = str(header.get("x5t#S256") or "").rstrip("=")
            if x5t == b64url(sha1) or x5t256 == b64url(sha256):
                return candidate
        return None


def _verified_claims(
    assertion: str, cert: x509.Certificate, audiences: list[str]
) -> dict[str, Any]:
    """The assertion's claims once its signature, lifetime and audience check out."""
    try:
        claims: dict[str, Any] = jwt.decode(
            assertion,
            cert.public_key(),  # type: ignore[arg-type]
            algorithms=["RS256", "PS256"],
            audience=audiences,
            options={"require": ["exp", "aud", "iss", "sub"]},
            leeway=300,
        )
    except jwt.ExpiredSignatureError:
        raise TokenRefused(
            "AADSTS700024",
            "invalid_client",
            "Client assertion is not within its valid time range.",
            401,
        ) from None
    except jwt.InvalidAudienceError:
        raise TokenRefused(
            "AADSTS700021",
            "invalid_client",
            "Client assertion audience claim does not match Realm issuer.",
            401,
        ) from None
    except jwt.PyJWTError:
        raise TokenRefused(
            "AADSTS700027",
            "invalid_client",
            "Client assertion failed signature validation.",
            401,
        ) from None
    return claims


def _thumb_text(header: Mapping[str, Any]) -> str:
    raw = header.get("x5t") or header.get("x5t#S256") or ""
    try:
        return base64.urlsafe_b64decode(str(raw) + "==").hex().upper()
    except (ValueError, TypeError):
        return "unknown"
