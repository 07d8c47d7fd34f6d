"""The base every live connector is built on: the requester, the cloud's endpoints and the
protocol attributes of its source's row.

A concrete connector declares its source's :class:`~connectors.source_row.SourceRow` as ``row``
and how the sync makes it as :meth:`LiveConnector.connect`: the source's whole declaration sits in
its connector's module.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from typing import ClassVar

from connectors.base import Connector
from connectors.context import LiveContext
from connectors.endpoints import CloudEndpoints
from connectors.http.requester import Requester
from connectors.records.record import Record
from connectors.records.scope import ScopeKind, Source
from connectors.source_row import SourceRow

__all__ = ["LiveConnector"]


class LiveConnector:
    """What every live connector shares: the protocol attributes, taken from the source's row
    as the fake connectors take them, so that real and fake connectors of a source are
    interchangeable."""

    row: ClassVar[SourceRow]
    """The source's row: set by each concrete connector."""

    def __init__(
        self, requester: Requester, endpoints: CloudEndpoints, *, identity: str | None = None
    ) -> None:
        self.requester = requester
        self.endpoints = endpoints
        row = self.row
        self.source: Source = row.source
        self.scope_kind: ScopeKind = row.scope_kind
        self.kinds: tuple[str, ...] = row.kinds
        self.identity: str | None = identity if row.per_identity else None
        self.requires: Source | None = row.requires
        self.page_size: int = row.page_size

    @classmethod
    def connect(cls, context: LiveContext) -> Iterable[Connector]:
        """The source's live connectors for one sync: usually one, one per identity for a
        per-identity source, none where the sync has not what the source needs."""
        raise NotImplementedError(f"{cls.__name__} declares no way to be made")

    def __repr__(self) -> str:
        suffix = f"/{self.identity}" if self.identity else ""
        return f"{type(self).__name__}({self.source}{suffix})"

    def what(self, customer_tenant_id: str | None) -> str:
        """How errors name this read, as the fake connectors name it."""
        scope = customer_tenant_id.lower() if customer_tenant_id else "partner"
        return f"{self.source} for {scope}"

    def customer(self, customer_tenant_id: str | None) -> str:
        """The lower-cased tenant of a customer-scoped read; partner scope is a caller bug."""
        if customer_tenant_id is None:
            raise ValueError(f"{self.source} is read per customer tenant")
        return customer_tenant_id.lower()

    def fetch(self, customer_tenant_id: str | None) -> AsyncIterator[Record]:
        raise NotImplementedError
