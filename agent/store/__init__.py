"""The local store: SQLModel tables, engine set-up, Alembic migrations, the repository."""

from agent.store.models import SETTLED_SCOPE, FindingStatus, RunStatus, ScopeStatus
from agent.store.repository import (
    CarryBase,
    Claim,
    LoadStats,
    Outcome,
    ScopeResult,
    Store,
    StoredObservation,
    Transaction,
)
from agent.store.values import FindingContent, FindingState, LinkState, StatusChange

__all__ = [
    "SETTLED_SCOPE",
    "CarryBase",
    "Claim",
    "FindingContent",
    "FindingState",
    "FindingStatus",
    "LinkState",
    "LoadStats",
    "Outcome",
    "RunStatus",
    "ScopeResult",
    "ScopeStatus",
    "StatusChange",
    "Store",
    "StoredObservation",
    "Transaction",
]
