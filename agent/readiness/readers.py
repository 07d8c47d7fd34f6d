"""What the readiness probes read with: the live connectors of the sources they test, the shared
requester for the reads no source makes (the directory's app roles, one subscription), and what
the partner-level probes and the store already know."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from agent.causes import Cause
from connectors.base import PARTNER_APP, Connector
from connectors.endpoints import CloudEndpoints
from connectors.http.requester import Requester
from connectors.records.gdap import GdapRelationship
from connectors.records.scope import Source


@dataclass(slots=True)
class Readers:
    requester: Requester
    endpoints: CloudEndpoints
    app_id: str
    """The partner's app (its client id): whose roles the directory is asked for."""
    connectors: Mapping[tuple[str, str | None], Connector]
    """Live connectors by (source name, identity)."""
    applies: Callable[[Connector, str], bool]
    """Whether a connector reads in a tenant (a carrier covers only its tenants)."""
    gdap: Mapping[str, list[GdapRelationship]] | None = None
    """GDAP relationships by customer tenant; ``None`` when they could not be read."""
    carriers_down: Mapping[str, Cause] = field(default_factory=dict)
    """Carriers whose sign-in the partner tenant refused, with the cause."""
    known_subscriptions: Mapping[str, frozenset[str]] = field(default_factory=dict)
    """Azure subscriptions the store knows of, by customer tenant."""
    stored_seats: Mapping[str, int] = field(default_factory=dict)

    def connector(self, source: str, identity: str | None = None) -> Connector | None:
        return self.connectors.get((source, identity))

    def pal_readers(self, tenant: str) -> list[tuple[str, Connector]]:
        """(identity, connector) of every PAL read that applies in ``tenant``, the partner's app
        first."""
        found = [
            (identity or PARTNER_APP, c)
            for (source, identity), c in self.connectors.items()
            if source == Source.ARM_PAL.value and self.applies(c, tenant)
        ]
        return sorted(found, key=lambda pair: (pair[0] != PARTNER_APP, pair[0]))
