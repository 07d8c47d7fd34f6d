"""The local store: SQLModel tables, engine set-up, Alembic migrations, the repository."""

from agent.store.models import FindingStatus, RunStatus, ScopeStatus
from agent.store.repository import LoadStats, ScopeResult, Store, StoredObservation

__all__ = [
    "FindingStatus",
    "LoadStats",
    "RunStatus",
    "ScopeResult",
    "ScopeStatus",
    "Store",
    "StoredObservation",
]
