"""What an access token says it grants, read from its payload without verifying it.

For ``check --online`` (which roles the app holds), never for trust: the APIs verify tokens.
"""

from __future__ import annotations

import base64
import json
from typing import Any


def decoded_claims(token: str) -> dict[str, Any]:
    """The payload of a JWT, **unverified**: for reading what was granted, never for trust."""
    try:
        payload = token.split(".")[1]
        data = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (IndexError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def decoded_roles(token: str) -> tuple[str, ...]:
    """The application roles (``roles`` claim) an access token carries, sorted; unverified."""
    roles = decoded_claims(token).get("roles")
    if not isinstance(roles, list):
        return ()
    return tuple(sorted(str(r) for r in roles))
