"""What the agent declares about one source: its row.

Each source's connector module holds its row (``row`` on the connector class), so a source's
facts — its name, how it is scoped, the record kinds it yields, the Graph roles it needs, the page
size it asks for and how its connectors are made — live in one room. :mod:`connectors.sources`
lists them in order.
"""

from __future__ import annotations

from dataclasses import dataclass

from connectors.records.scope import ScopeKind, Source


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

    @property
    def name(self) -> str:
        return self.source.value

    def pages(self, items: int) -> int:
        """How many pages a listing of ``items`` has; an empty listing is one (empty) page."""
        return max(1, -(-items // self.page_size))
