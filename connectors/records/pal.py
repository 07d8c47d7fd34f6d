"""Partner Admin Link: the link each identity holds in a customer tenant, and the identities
that can carry one as the customer tenant sees them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar


@dataclass(frozen=True, slots=True, kw_only=True)
class PalLink:
    """The Partner Admin Link of one identity in one customer tenant, read as that identity.

    ``partner_id`` is ``None`` when Azure answered ``ManagementPartnerNotFound``: an observed,
    authenticated "not linked", which is not the same as "could not read".
    """

    KIND: ClassVar[str] = "pal_link"
    customer_tenant_id: str
    identity: str
    object_id: str | None = None
    partner_id: str | None = None
    state: str | None = None
    updated: datetime | None = None
    subscriptions: tuple[str, ...] = ()
    """Azure subscriptions the identity can reach (listed as that identity, sorted): where its
    PAL earns credit."""

    @property
    def key(self) -> str:
        return self.identity


@dataclass(frozen=True, slots=True, kw_only=True)
class CredentialEnd:
    """One secret or certificate of an app registration, and when it stops working.

    ``thumbprint`` (certificates: the SHA-1 thumbprint, upper-case hex) tells which certificate
    an identity signs in with; a secret's ``hint`` is never kept (it is part of the secret).
    """

    kind: str
    """``secret`` (a password credential) or ``certificate`` (a key credential)."""
    key_id: str | None = None
    ends: datetime | None = None
    thumbprint: str | None = None
    name: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Identity:
    """A PAL-carrying identity (the partner's app or a carrier) as seen in the customer tenant.

    Read by the partner's app: the service principal in the customer tenant (object id, enabled)
    and the expiry of the app registration's newest credential in the partner tenant.
    """

    KIND: ClassVar[str] = "identity"
    customer_tenant_id: str
    identity: str
    object_id: str | None = None
    app_id: str | None = None
    display_name: str | None = None
    enabled: bool = True
    credential_expires: datetime | None = None
    """The latest end of the app registration's credentials (``credentials``)."""
    credentials: tuple[CredentialEnd, ...] = ()
    """Every secret and certificate of the app registration, read in the partner tenant."""

    @property
    def key(self) -> str:
        return self.identity
