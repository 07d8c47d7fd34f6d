"""The agent's own credentials as the audit judges them: the secret or certificate each identity
signs in with (the partner's app and every PAL carrier), and the app+user refresh token.

The agent builds them (:mod:`agent.health`) from what the last syncs read of each app
registration and from the refresh token file, and hands them to the rules in the audit context;
a rule only compares their ends with the clock and the lead time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

REFRESH_TOKEN = "refresh_token"  # noqa: S105 - a kind of credential, not one
"""The ``kind`` of the app+user refresh token's state; the others are ``secret`` and
``certificate``."""

REFRESH_TOKEN_IDLE = timedelta(days=90)
"""A refresh token lives 90 days and replaces itself with a fresh one on every use ("Refresh
tokens in the Microsoft identity platform", token lifetime,
https://learn.microsoft.com/entra/identity-platform/refresh-tokens); one left idle that long is
refused with AADSTS700082 ("expired due to inactivity")."""

CRITICAL = timedelta(days=7)
"""Within this of its end (or past it) a credential's finding is critical."""


@dataclass(frozen=True, slots=True)
class CredentialState:
    """One credential of the agent and when it stops working."""

    identity: str
    """``partner-app``, a carrier's name, or ``app+user`` for the refresh token."""
    kind: str
    expires: datetime | None
    """When it stops working; ``None``: unknown (never read, or no token stored)."""
    lead: timedelta
    """How long before ``expires`` it is reported."""
    app_id: str | None = None
    evidence: Mapping[str, Any] = field(default_factory=dict)

    def due(self, now: datetime) -> bool:
        """It ends within the lead time (or has ended)."""
        return self.expires is not None and self.expires <= now + self.lead

    def critical(self, now: datetime) -> bool:
        return self.expires is not None and self.expires <= now + CRITICAL


def days_left(expires: datetime, now: datetime) -> int:
    """Whole days until ``expires``; 0 once it has passed."""
    return max((expires - now) // timedelta(days=1), 0)


def expiry_phrase(expires: datetime, now: datetime) -> str:
    """``expired on 2026-11-13`` or ``expires on 2026-12-05 (in 20 days)``."""
    date = expires.date().isoformat()
    if expires <= now:
        return f"expired on {date}"
    return f"expires on {date} (in {(expires - now) // timedelta(days=1)} days)"
