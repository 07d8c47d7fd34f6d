"""The local store: SQLModel tables, engine set-up, Alembic migrations, the repository."""

from agent.store.models import SETTLED_SCOPE, FindingStatus, RunStatus, ScopeStatus
from agent.store.repository import (
    CarryBase,
    Claim,
    CreditFilter,
    LoadStats,
    Outcome,
    ScopeResult,
    Store,
    StoredCredit,
    StoredObservation,
    Transaction,
)
from agent.store.repository.tables import CREDIT_COLUMNS
from agent.store.values import FindingContent, FindingState, LinkState, StatusChange

__all__ = [
    "CREDIT_COLUMNS",
    "SETTLED_SCOPE",
    "CarryBase",
    "Claim",
    "CreditFilter",
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
    "StoredCredit",
    "StoredObservation",
    "Transaction",
]
