"""An app registration's secrets and certificates as Graph lists them
(``passwordCredentials`` and ``keyCredentials`` of ``GET /applications(appId='{id}')``,
https://learn.microsoft.com/graph/api/resources/application), read into
:class:`~connectors.records.pal.CredentialEnd` values: what each is and when it stops working.

A secret's ``hint`` (its first characters) is never read: it is part of the secret.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from connectors.http.fields import name_text, text, timestamp
from connectors.records.pal import CredentialEnd

__all__ = ["credential_ends", "newest_end", "thumbprint_of"]

_HEX_THUMBPRINT = re.compile(r"^[0-9A-Fa-f]{40}$")
_KINDS = (("passwordCredentials", "secret"), ("keyCredentials", "certificate"))


def thumbprint_of(custom_key_identifier: object) -> str | None:
    """A certificate's SHA-1 thumbprint (upper-case hex) from ``customKeyIdentifier``: Graph
    sends it as base64 of the 20 thumbprint bytes; hex is taken as it is."""
    raw = text(custom_key_identifier)
    if not raw:
        return None
    if _HEX_THUMBPRINT.match(raw):
        return raw.upper()
    try:
        decoded = base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        return None
    return decoded.hex().upper() if len(decoded) == 20 else None


def _credential(item: Mapping[str, Any], kind: str) -> CredentialEnd:
    key_id = text(item.get("keyId"))
    return CredentialEnd(
        kind=kind,
        key_id=key_id.lower() if key_id else None,
        ends=timestamp(item.get("endDateTime")),
        thumbprint=thumbprint_of(item.get("customKeyIdentifier"))
        if kind == "certificate"
        else None,
        name=name_text(item.get("displayName")),
    )


def credential_ends(application: Mapping[str, Any]) -> tuple[CredentialEnd, ...]:
    """Every secret and certificate of an application, the latest-ending first (those with no
    end last); anything that is not an object is passed over."""
    found = [
        _credential(item, kind)
        for key, kind in _KINDS
        for item in application.get(key) or []
        if isinstance(item, Mapping)
    ]
    return tuple(
        sorted(found, key=lambda c: (c.ends is None, -(c.ends.timestamp() if c.ends else 0)))
    )


def newest_end(credentials: tuple[CredentialEnd, ...]) -> datetime | None:
    """The latest end of any of them (``None``: none has an end)."""
    ends = [c.ends for c in credentials if c.ends is not None]
    return max(ends) if ends else None
