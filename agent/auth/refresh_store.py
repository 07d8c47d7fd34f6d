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
        with self._lock:
            data = self._read()
        raw = data.get("rotated_at") if data else None
        if not isinstance(raw, str):
            return None
        try:
            return datetime.fromisoformat(raw)
        except ValueError:
            return None

    def age(self) -> timedelta | None:
        """How long ago the token was last rotated; ``None`` without a token."""
        rotated = self.rotated_at()
        return None if rotated is None else self._clock() - rotated

    def stale(self) -> bool:
        """The token is older than ``warn_after``: it will die after 90 idle days."""
        age = self.age()
        return age is not None and age >= self.warn_after

    def save(
        self, refresh_token: str, *, client_id: str | None = None, tenant_id: str | None = None
    ) -> None:
        """Write the token: a new 0600 file beside the old one, fsynced, then renamed over it."""
        record = {
            "refresh_token": refresh_token,
            "rotated_at": self._clock().isoformat(),
            "client_id": client_id,
            "tenant_id": tenant_id,
        }
        payload = json.dumps(record, indent=2).encode("utf-8")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._lock:
            write_private(self.path, payload)
