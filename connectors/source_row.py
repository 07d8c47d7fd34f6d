"""What the agent declares about one source: its row.

Each source's connector module holds its row (``row`` on the connector class), so a source's
facts — its name, how it is scoped, the record kinds it yields, the Graph roles it needs, the page
size it asks for and how its connectors are made — live in one room. :mod:`connectors.sources`
lists them in order.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from connectors.records.scope import ScopeKind, Source


class Cadence(StrEnum):
    """How often a scheduled (not full) cycle reads a source's scopes."""

    EVERY_CYCLE = "every_cycle"
    """Read in every cycle: the sources whose links' disappearance is alerted (the customer
    list, GDAP, PAL and what carries it, Microsoft's attribution reports), the change feed
    itself, and the identities a PAL rides on."""
    ON_CHANGE = "on_change"
    """Between full syncs, read again only when Partner Center's audit records name the
    customer; otherwise carried on the last complete read, which is at most ``[sync]
    full_every`` old. For sources that carry no link whose loss is alerted (or, for the CSP
    subscriptions, whose every change Partner Center audits)."""


@dataclass(frozen=True, slots=True)
class Permission:
    """A Microsoft Graph application role a source needs (Partner Center and ARM grant access
    by relationship and role assignment instead; a real read is their test)."""

    role: str
    granted_in: ScopeKind
    """``partner``: in the partner tenant, by admin consent; ``customer``: in each customer
    tenant, by the partner's application consent."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceRow:
    """Everything the agent declares about one source."""

    source: Source
    scope_kind: ScopeKind
    kinds: tuple[str, ...]
    """The record kinds it yields: those a complete read of it may mark removed."""
    page_size: int
    """Items per page it asks for; the emulator pages the same way, so that a fault on
    ``page:N`` means the same to the fake, the emulator and the real connectors."""
    permissions: tuple[Permission, ...] = ()
    requires: Source | None = None
    """The partner source whose customers this customer source exists for."""
    per_identity: bool = False
    """Read once per identity the agent signs in as (the partner's app and every carrier)."""
    cadence: Cadence = Cadence.EVERY_CYCLE
    """How often a scheduled cycle reads it (docs: bench/README.md, "The night")."""

    @property
    def name(self) -> str:
        return self.source.value

    def pages(self, items: int) -> int:
        """How many pages a listing of ``items`` has; an empty listing is one (empty) page."""
        return max(1, -(-items // self.page_size))
