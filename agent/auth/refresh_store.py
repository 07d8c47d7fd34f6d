"""The app+user refresh token on disk: mode 0600, replaced atomically, rotation time kept.

Entra rotates the refresh token on every use and drops it after 90 idle days, so the file is
rewritten on each redemption and its age is what tells the partner to sign in again.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from agent.files import write_private
from connectors.errors import AuthError


class RefreshTokenStore:
    """The app+user refresh token on disk: mode 0600, replaced atomically, rotation time kept.

    Entra rotates the refresh token on every use and drops it after 90 idle days
    (AADSTS700082); ``warn_after`` (default 60 days) is when the agent starts to say so.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        warn_after_days: int = 60,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.path = Path(path)
        self.warn_after = timedelta(days=warn_after_days)
        self._clock = clock or (lambda: datetime.now(UTC))
        self._lock = threading.Lock()

    def _read(self) -> dict[str, Any] | None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise AuthError(
                f"the refresh token file {self.path} cannot be read ({type(exc).__name__})"
            ) from None
        return data if isinstance(data, dict) else None

    def load(self) -> str | None:
        """The stored refresh token, if any."""
        with self._lock:
            data = self._read()
        token = data.get("refresh_token") if data else None
        return token if isinstance(token, str) and token else None

    def rotated_at(self) -> datetime | None:
        """When the stored token was last written (it rotates on every use)."""
        return self._stamp("rotated_at")

    def signed_in_at(self) -> datetime | None:
        """When the administrator last signed in (`partnerlink auth login`); kept across
        rotations. ``None`` for a file written before this was kept."""
        return self._stamp("signed_in_at")

    def _stamp(self, key: str) -> datetime | None:
        with self._lock:
            data = self._read()
        raw = data.get(key) if data else None
        if not isinstance(raw, str):
            return None
        try:
            stamp = datetime.fromisoformat(raw)
        except ValueError:
            return None
        return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)

    def age(self) -> timedelta | None:
        """How long ago the token was last rotated; ``None`` without a token."""
        rotated = self.rotated_at()
        return None if rotated is None else self._clock() - rotated

    def stale(self) -> bool:
        """The token is older than ``warn_after``: it will die after 90 idle days."""
        age = self.age()
        return age is not None and age >= self.warn_after

    def save(
        self,
        refresh_token: str,
        *,
        client_id: str | None = None,
        tenant_id: str | None = None,
        signed_in: bool = False,
        rotated_at: datetime | None = None,
        signed_in_at: datetime | None = None,
    ) -> None:
        """Write the token: a new 0600 file beside the old one, fsynced, then renamed over it.

        ``signed_in``: it comes from a sign-in, not a rotation (the sign-in time is kept across
        rotations). ``rotated_at``/``signed_in_at`` stamp a token handed over from elsewhere
        (an emulator's, with the age its scenario gives it)."""
        rotated = rotated_at or self._clock()
        if signed_in_at is None:
            signed_in_at = rotated if signed_in else self.signed_in_at()
        record = {
            "refresh_token": refresh_token,
            "rotated_at": rotated.isoformat(),
            "signed_in_at": signed_in_at.isoformat() if signed_in_at else None,
            "client_id": client_id,
            "tenant_id": tenant_id,
        }
        payload = json.dumps(record, indent=2).encode("utf-8")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock:
            write_private(self.path, payload)
