"""The emulator's identity platform: access tokens, refresh tokens and device codes.

Access tokens are HS256 JWTs signed with a per-emulator random key, so only this emulator can
mint tokens it accepts. Certificate sign-in (the client assertion and the certificates uploaded
to app registrations) is :mod:`standin.emulator.certificates`.
"""

from __future__ import annotations

import secrets
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jwt

from standin.emulator.certificates import Certificates
from standin.emulator.codes import AuthorizationCodes
from standin.emulator.tokens import (
    ACCESS_TOKEN_LIFETIME,
    RESOURCES,
    USER_SCOPE,
    Principal,
    TokenInvalid,
    TokenRefused,
    b64url,
)

REFRESH_TOKEN_IDLE = 90 * 86400.0
"""Seconds a refresh token may lie unused before Entra refuses it (AADSTS700082)."""

CHECKED_TOKENS = 10_000
"""Access tokens whose signature is remembered as checked, the oldest forgotten first (about
20 MB at most; a sync of 2,000 customers signs in some 6,500 times): a client presents each
token many times, and a JWT's check costs more than the answer. A token forgotten is checked
in full again."""


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

    def __init__(self, *, device_pending_polls: int = 1, remembered: int = CHECKED_TOKENS) -> None:
        self._key = secrets.token_bytes(32)
        self.certificates = Certificates()
        self.codes = AuthorizationCodes()
        """The authorization codes ``/authorize`` issues (the web sign-in's flow)."""
        self._refresh: dict[str, _RefreshGrant] = {}
        self._devices: dict[str, _DeviceCode] = {}
        self._lock = threading.Lock()
        self._checked: dict[str, Principal] = {}
        self._remembered = remembered
        self.device_pending_polls = device_pending_polls

    # -- certificates -----------------------------------------------------------------------

    def register_certificate(self, pem: bytes | str) -> str:
        """Upload a public certificate (as an app registration would); returns its SHA-1."""
        return self.certificates.register(pem)

    def verify_assertion(
        self, assertion: str, *, client_id: str, thumbprints: list[str], audiences: list[str]
    ) -> None:
        """Check a ``private_key_jwt`` client assertion; raise :class:`TokenRefused`."""
        self.certificates.verify_assertion(
            assertion, client_id=client_id, thumbprints=thumbprints, audiences=audiences
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
            "uti": b64url(uuid.uuid4().bytes),
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
        token = jwt.encode(claims, self._key, algorithm="HS256", headers={"kid": "emulator"})
        self._remember(token, claims)  # minted here with this key: its signature is good
        return token

    def check(self, token: str, *, audiences: tuple[str, ...]) -> Principal:
        """Validate a bearer token for an API; raise :class:`TokenInvalid`. The signature of
        a token seen before is not checked again; its lifetime is, every time."""
        with self._lock:
            principal = self._checked.get(token)
        if principal is None:
            principal = self._remember(token, self._decode(token))
        else:
            _check_lifetime(principal.claims)
        if principal.audience not in audiences:
            raise TokenInvalid(
                "audience",
                "The access token has been obtained for wrong audience or resource "
                f"'{principal.audience}'.",
            )
        return principal

    def _decode(self, token: str) -> dict[str, Any]:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self._key,
                algorithms=["HS256"],
                options={"require": ["exp", "aud", "tid"], "verify_aud": False},
            )
        except jwt.ExpiredSignatureError:
            raise _expired() from None
        except jwt.PyJWTError:
            raise TokenInvalid("invalid", "The access token is not valid.") from None
        return claims

    def _remember(self, token: str, claims: dict[str, Any]) -> Principal:
        """Who a token whose signature is good speaks for, remembered for its next check."""
        audience = str(claims.get("aud", "")).rstrip("/")
        principal = Principal(
            tenant_id=str(claims["tid"]).lower(),
            app_id=str(claims.get("appid", "")).lower(),
            audience=audience,
            api=RESOURCES.get(audience, ""),
            user=claims.get("idtyp") == "user",
            object_id=str(claims.get("oid", "")),
            roles=tuple(claims.get("roles") or ()),
            claims=claims,
        )
        with self._lock:
            self._checked[token] = principal
            if len(self._checked) > self._remembered:
                del self._checked[next(iter(self._checked))]
        return principal

    def id_token(
        self,
        *,
        tenant_id: str,
        client_id: str,
        issuer: str,
        oid: str,
        upn: str,
        name: str = "Partner administrator",
        nonce: str | None = None,
    ) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "aud": client_id,
            "iss": issuer,
            "iat": now,
            "nbf": now,
            "exp": now + 3600,
            "oid": oid,
            "sub": oid,
            "tid": tenant_id,
            "preferred_username": upn,
            "name": name,
            "ver": "2.0",
        }
        if nonce is not None:
            claims["nonce"] = nonce
        return jwt.encode(claims, self._key, algorithm="HS256")

    # -- refresh tokens and device codes ----------------------------------------------------

    def refresh_token(
        self, *, tenant_id: str, client_id: str, user_oid: str, upn: str, idle: float = 0.0
    ) -> str:
        """A new opaque refresh token for the user (Entra's are opaque, ~1 KB; ours shorter),
        last used ``idle`` seconds ago."""
        token = "0.AR" + secrets.token_urlsafe(48)
        issued = time.time() - idle
        with self._lock:
            self._refresh[token] = _RefreshGrant(tenant_id, client_id, user_oid, upn, issued)
        return token

    def redeem_refresh_token(
        self, token: str, *, tenant_id: str, client_id: str, delegated: bool = False
    ) -> _RefreshGrant:
        """The grant a refresh token stands for. Like Entra, a redeemed token stays valid for
        its lifetime; the answer carries a new (rotated) one that the client must keep.

        A refresh token is not tied to a tenant: it is redeemed in another tenant where its
        user has delegated admin rights there (``delegated``: GDAP)."""
        with self._lock:
            grant = self._refresh.get(token)
        if grant is None:
            raise TokenRefused(
                "AADSTS9002313",
                "invalid_grant",
                "Invalid request. Request is malformed or invalid.",
            )
        if time.time() - grant.issued > REFRESH_TOKEN_IDLE:
            raise TokenRefused(
                "AADSTS700082",
                "invalid_grant",
                "The refresh token has expired due to inactivity. The token was inactive for "
                "90.00:00:00.",
            )
        if grant.client_id != client_id:
            raise TokenRefused(
                "AADSTS70000",
                "invalid_grant",
                "Provided grant is invalid or malformed (issued to another client).",
            )
        if grant.tenant_id != tenant_id and not delegated:
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


def _expired() -> TokenInvalid:
    return TokenInvalid("expired", "Lifetime validation failed, the token is expired.")


def _check_lifetime(claims: Mapping[str, Any]) -> None:
    """What ``jwt.decode`` checks of a token's times (``iat`` and ``nbf`` not in the future,
    ``exp`` not reached), for a token whose signature and claims it accepted before."""
    now = time.time()
    for name in ("iat", "nbf"):
        if name in claims and int(claims[name]) > now:
            raise TokenInvalid("invalid", "The access token is not valid.")
    if int(claims["exp"]) <= now:
        raise _expired()
