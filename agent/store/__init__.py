"""The local store: SQLModel tables, engine set-up, Alembic migrations, the repository."""

from agent.store.models import SETTLED_SCOPE, FindingStatus, RunStatus, ScopeStatus
from agent.store.repository import CarryBase, LoadStats, ScopeResult, Store, StoredObservation

__all__ = [
    "SETTLED_SCOPE",
    "CarryBase",
    "FindingStatus",
    "LoadStats",
    "RunStatus",
    "ScopeResult",
    "ScopeStatus",
    "Store",
    "StoredObservation",
]
