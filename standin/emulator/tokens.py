"""What the emulator's identity platform and its APIs agree on: the resources tokens are for,
who a valid token speaks for, and how a refused sign-in or a refused token is told.

Tokens are minted and checked by :mod:`standin.emulator.authority`; certificate sign-in is
:mod:`standin.emulator.certificates`.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

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


def b64url(raw: bytes) -> str:
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


def client_info(user_oid: str, tenant_id: str) -> str:
    """Entra's ``client_info`` (base64url JSON of uid and utid), which MSAL uses for accounts."""
    raw = ('{"uid":"%s","utid":"%s"}' % (user_oid, tenant_id)).encode()  # noqa: UP031
    return b64url(raw)


def user_object_id(tenant_id: str) -> str:
    """The object id of the emulator's partner administrator (the app+user token's user)."""
    return str(uuid.uuid5(uuid.UUID("5f0c2a52-6a5e-4b8e-9d55-0d1f6f1e2a11"), tenant_id.lower()))


def admin_upn(tenant_id: str) -> str:
    """The user principal name of the emulator's partner administrator."""
    return f"admin@partner-{tenant_id[:8]}.onmicrosoft.com"


def digest(text: str) -> str:
    """A short stable digest, for request ids and etags."""
    return hashlib.sha256(text.encode()).hexdigest()[:16]
