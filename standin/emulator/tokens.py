"""The emulator's identity platform: access tokens, client assertions, refresh and device codes.

Access tokens are HS256 JWTs signed with a per-emulator random key, so only this emulator can
mint tokens it accepts. Certificate sign-in follows Entra: the client assertion's ``x5t`` (SHA-1)
or ``x5t#S256`` names a certificate; that certificate must be registered on the app (its SHA-1
thumbprint in the scenario's ``certificate_thumbprints``), and its public key must verify the
assertion. The emulator learns the certificate itself either from the assertion's ``x5c`` header
(Subject Name/Issuer style; MSAL sends it with ``public_certificate``) or from
:meth:`TokenAuthority.register_certificate` (the app registration's uploaded public key).
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes

RESOURCES: dict[str, str] = {
    "https://api.partnercenter.microsoft.com": "pc",
    "https://graph.microsoft.com": "graph",
    "https://management.azure.com": "arm",
    "https://management.core.windows.net": "arm",
}
"""Resource (token audience) -> the API that accepts it."""

ACCESS_TOKEN_LIFETIME = 3599
"""Seconds; what Entra answers as ``expires_in`` for an app token (±5 min of jitter there)."""

USER_SCOPE = "user_impersonation"


class TokenRefused(Exception):
    """A token request the identity platform refuses, in its own words."""

    def __init__(self, aadsts: str, error: str, description: str, status: int = 400) -> None:
        super().__init__(f"{aadsts}: {description}")
        self.aadsts = aadsts
        self.error = error
        self.description = description
        self.status = status


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a valid access token speaks for."""

    tenant_id: str
    app_id: str
    audience: str
    api: str
    user: bool
    object_id: str
    roles: tuple[str, ...]
    claims: Mapping[str, Any]


class TokenInvalid(Exception):
    """An access token an API refuses; ``reason`` picks the API's error code."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def resource_of(scope: str | None, resource: str | None) -> tuple[str | None, bool]:
    """The audience a token request names, and whether it asked for ``offline_access``.

    v2 requests name ``<resource>/.default`` (or ``/user_impersonation``) in ``scope``; v1
    requests send ``resource=``.
    """
    if resource:
        return resource.rstrip("/"), False
    found: str | None = None
    offline = False
    for item in (scope or "").split():
        if item in ("openid", "profile", "email"):
            continue
        if item == "offline_access":
            offline = True
            continue
        base, _, _name = item.rpartition("/")
        found = (base or item).rstrip("/")
    return found, offline


def sha1_thumbprint(cert: x509.Certificate) -> str:
    """The certificate's SHA-1 thumbprint as Entra shows it (upper-case hex)."""
    return cert.fingerprint(hashes.SHA1()).hex().upper()  # noqa: S303 - Entra's x5t is SHA-1


@dataclass
class _RefreshGrant:
    tenant_id: str
    client_id: str
    user_oid: str
    upn: str
    issued: float


@dataclass
class _DeviceCode:
    tenant_id: str
    client_id: str
    scope: str
    expires: float
    polls: int = 0


class TokenAuthority:
    """Issues and checks the emulator's tokens. Thread-safe."""

    def __init__(self, *, device_pending_polls: int = 1) -> None:
        self._key = secrets.token_bytes(32)
        self._certs: dict[str, x509.Certificate] = {}
        self._refresh: dict[str, _RefreshGrant] = {}
        self._devices: dict[str, _DeviceCode] = {}
        self._lock = threading.Lock()
        self.device_pending_polls = device_pending_polls

    # -- certificates -----------------------------------------------------------------------

    def register_certificate(self, pem: bytes | str) -> str:
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
        registered = {t.replace(":", "").upper() for t in thumbprints}
        candidates: list[x509.Certificate] = []
        for der in header.get("x5c") or []:
            try:
                candidates.append(x509.load_der_x509_certificate(base64.b64decode(der)))
            except (ValueError, TypeError):
                continue
        with self._lock:
            candidates.extend(self._certs.values())
        cert = None
        for candidate in candidates:
            thumb = sha1_thumbprint(candidate)
            if thumb not in registered:
                continue
            sha1 = bytes.fromhex(thumb)
            sha256 = candidate.fingerprint(hashes.SHA256())
            # MSAL keeps the base64 padding of the thumbprint; Entra accepts it either way.
            x5t = str(header.get("x5t") or "").rstrip("=")
            x5t256 = str(header.get("x5t#S256") or "").rstrip("=")
            if x5t == _b64url(sha1) or x5t256 == _b64url(sha256):
                cert = candidate
                break
        if cert is None:
            raise TokenRefused(
                "AADSTS700027",
                "invalid_client",
                "The certificate with identifier used to sign the client assertion is not "
                f"registered on application. [Reason - The key was not found., Thumbprint of "
                f"key used by client: '{_thumb_text(header)}'",
                401,
            )
        try:
            claims = jwt.decode(
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
        if claims.get("iss") != client_id or claims.get("sub") != client_id:
            raise TokenRefused(
                "AADSTS700023",
                "invalid_client",
                "Client assertion issuer or subject is not the client id.",
                401,
            )

    # -- access tokens ----------------------------------------------------------------------

    def access_token(
        self,
        *,
        tenant_id: str,
        app_id: str,
        audience: str,
        object_id: str,
        roles: tuple[str, ...] = (),
        user: tuple[str, str] | None = None,
        certificate: bool = False,
        lifetime: int = ACCESS_TOKEN_LIFETIME,
    ) -> str:
        """An HS256 JWT in the shape of an Entra v1 access token."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "aud": audience,
            "iss": f"https://sts.windows.net/{tenant_id}/",
            "iat": now,
            "nbf": now,
            "exp": now + lifetime,
            "tid": tenant_id,
            "appid": app_id,
            "azp": app_id,
            "appidacr": "2" if certificate else "1",
            "oid": object_id,
            "sub": object_id,
            "uti": _b64url(uuid.uuid4().bytes),
            "ver": "1.0",
        }
        if user is None:
            claims["idtyp"] = "app"
            if roles:
                claims["roles"] = list(roles)
        else:
            claims["idtyp"] = "user"
            claims["scp"] = USER_SCOPE
            claims["upn"] = user[1]
            claims["amr"] = ["pwd", "mfa"]
        return jwt.encode(claims, self._key, algorithm="HS256", headers={"kid": "emulator"})

    def check(self, token: str, *, audiences: tuple[str, ...]) -> Principal:
        """Validate a bearer token for an API; raise :class:`TokenInvalid`."""
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=["HS256"],
                options={"require": ["exp", "aud", "tid"], "verify_aud": False},
            )
        except jwt.ExpiredSignatureError:
            raise TokenInvalid(
                "expired", "Lifetime validation failed, the token is expired."
            ) from None
        except jwt.PyJWTError:
            raise TokenInvalid("invalid", "The access token is not valid.") from None
        audience = str(claims.get("aud", "")).rstrip("/")
        if audience not in audiences:
            raise TokenInvalid(
                "audience",
                f"The access token has been obtained for wrong audience or resource '{audience}'.",
            )
        return Principal(
            tenant_id=str(claims["tid"]).lower(),
            app_id=str(claims.get("appid", "")).lower(),
            audience=audience,
            api=RESOURCES.get(audience, ""),
            user=claims.get("idtyp") == "user",
            object_id=str(claims.get("oid", "")),
            roles=tuple(claims.get("roles") or ()),
            claims=claims,
        )

    def id_token(self, *, tenant_id: str, client_id: str, issuer: str, oid: str, upn: str) -> str:
        now = int(time.time())
        claims = {
            "aud": client_id,
            "iss": issuer,
            "iat": now,
            "nbf": now,
            "exp": now + 3600,
            "oid": oid,
            "sub": oid,
            "tid": tenant_id,
            "preferred_username": upn,
            "name": "Partner administrator",
            "ver": "2.0",
        }
        return jwt.encode(claims, self._key, algorithm="HS256")

    # -- refresh tokens and device codes ----------------------------------------------------

    def refresh_token(self, *, tenant_id: str, client_id: str, user_oid: str, upn: str) -> str:
        """A new opaque refresh token for the user (Entra's are opaque, ~1 KB; ours shorter)."""
        token = "0.AR" + secrets.token_urlsafe(48)
        with self._lock:
            self._refresh[token] = _RefreshGrant(tenant_id, client_id, user_oid, upn, time.time())
        return token

    def redeem_refresh_token(self, token: str, *, tenant_id: str, client_id: str) -> _RefreshGrant:
        """The grant a refresh token stands for. Like Entra, a redeemed token stays valid for
        its lifetime; the answer carries a new (rotated) one that the client must keep."""
        with self._lock:
            grant = self._refresh.get(token)
        if grant is None:
            raise TokenRefused(
                "AADSTS9002313",
                "invalid_grant",
                "Invalid request. Request is malformed or invalid.",
            )
        if grant.client_id != client_id:
            raise TokenRefused(
                "AADSTS70000",
                "invalid_grant",
                "Provided grant is invalid or malformed (issued to another client).",
            )
        if grant.tenant_id != tenant_id:
            raise TokenRefused(
                "AADSTS50173",
                "invalid_grant",
                "The provided grant has expired due to it being revoked or issued for "
                "another tenant.",
            )
        return grant

    def revoke_refresh_tokens(self) -> int:
        """Revoke every refresh token (a test of the 90-day idle expiry). Returns how many."""
        with self._lock:
            count = len(self._refresh)
            self._refresh.clear()
        return count

    def device_code(self, *, tenant_id: str, client_id: str, scope: str, lifetime: int) -> str:
        code = secrets.token_urlsafe(32)
        with self._lock:
            self._devices[code] = _DeviceCode(tenant_id, client_id, scope, time.time() + lifetime)
        return code

    def poll_device_code(self, code: str, *, client_id: str) -> _DeviceCode:
        """Auto-approves after ``device_pending_polls`` polls answered ``authorization_pending``."""
        with self._lock:
            device = self._devices.get(code)
            if device is None or device.client_id != client_id:
                raise TokenRefused(
                    "AADSTS70000", "invalid_grant", "Provided grant is invalid or malformed."
                )
            if device.expires < time.time():
                self._devices.pop(code, None)
                raise TokenRefused("AADSTS70019", "expired_token", "Verification code expired.")
            device.polls += 1
            if device.polls <= self.device_pending_polls:
                raise TokenRefused(
                    "AADSTS70016",
                    "authorization_pending",
                    "OAuth 2.0 device flow error. Authorization is pending. Continue polling.",
                )
            self._devices.pop(code, None)
            return device


def _thumb_text(header: Mapping[str, Any]) -> str:
    raw = header.get("x5t") or header.get("x5t#S256") or ""
    try:
        return base64.urlsafe_b64decode(str(raw) + "==").hex().upper()
    except (ValueError, TypeError):
        return "unknown"


def client_info(user_oid: str, tenant_id: str) -> str:
    """Entra's ``client_info`` (base64url JSON of uid and utid), which MSAL uses for accounts."""
    raw = ('{"uid":"%s","utid":"%s"}' % (user_oid, tenant_id)).encode()  # noqa: UP031
    return _b64url(raw)


def user_object_id(tenant_id: str) -> str:
    """The object id of the emulator's partner administrator (the app+user token's user)."""
    return str(uuid.uuid5(uuid.UUID("5f0c2a52-6a5e-4b8e-9d55-0d1f6f1e2a11"), tenant_id.lower()))


def digest(text: str) -> str:
    """A short stable digest, for request ids and etags."""
    return hashlib.sha256(text.encode()).hexdigest()[:16]
