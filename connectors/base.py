"""The connector contract: what the sync may ask of any source, real or fake.

A connector reads one :class:`~connectors.records.scope.Source` for one scope and yields frozen
records. It raises a :mod:`connectors.errors` error when it cannot finish; it never returns an
empty or partial list "to be safe" (a short list would read as links that vanished).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol, runtime_checkable

from connectors.records.record import Record
from connectors.records.scope import ScopeKind, Source

PARTNER_APP = "partner-app"
"""The identity name of the partner's own multi-tenant app; every other identity is a PAL
carrier named in the configuration."""

APP_USER = "app+user"
"""The ``identity`` asked of the token provider for an app+user (delegated) token: the Partner
Center usage and insights endpoints accept no app-only token."""


@runtime_checkable
class Connector(Protocol):
    """One source, read per scope.

    ``kinds`` lists the record kinds the connector yields: after a complete read of a scope,
    stored records of those kinds that were not yielded are marked removed (guarantee soft-delete).
    ``identity`` names the identity a per-identity source (PAL) signs in as.
    """

    source: Source
    scope_kind: ScopeKind
    kinds: tuple[str, ...]
    identity: str | None

    def fetch(self, customer_tenant_id: str | None) -> AsyncIterator[Record]:
        """Yield every record of the scope; raise on anything short of a complete read."""
        ...


class TokenProvider(Protocol):
    """Hands out bearer tokens; the one seam between connectors and MSAL."""

    async def token(
        self,
        tenant_id: str,
        resource: str,
        *,
        identity: str | None = None,
        force_refresh: bool = False,
    ) -> str:
        """A token for ``resource`` (e.g. ``https://graph.microsoft.com``) in ``tenant_id``.

        ``identity`` selects a PAL carrier instead of the partner's app. Raises
        :class:`connectors.errors.AuthError` when none can be had.
        """
        ...
