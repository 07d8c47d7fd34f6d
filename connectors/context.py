"""What every live connector of one sync is made from, and the shape of a source's maker."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from connectors.base import Connector
from connectors.endpoints import CloudEndpoints
from connectors.http.requester import Requester
from connectors.insights.queries import InsightsQuery
from connectors.timing import Sleep


@dataclass(frozen=True, slots=True)
class LiveContext:
    """What every live connector of one sync is made from."""

    requester: Requester
    endpoints: CloudEndpoints
    partner_tenant_id: str
    identities: Mapping[str, str]
    """Every identity the agent signs in as, ``partner-app`` included, to its app (client) id."""
    app_user: bool
    """Whether an app+user refresh token is configured (the delegated sources need one)."""
    insights_folder: Path | None
    audit_lookback_days: int
    insights_queries: tuple[InsightsQuery, ...]
    user_identity: str
    sleep: Sleep


Connect = Callable[[LiveContext], Iterable[Connector]]
"""A source's live connectors: usually one, one per identity for a per-identity source, none
where the sync has not what the source needs (an app+user token)."""
