"""The Core tables behind the SQLModel classes, for set-based statements: their columns
type-check as SQL expressions, where the model attributes read as plain Python values."""

from __future__ import annotations

from sqlalchemy import Table
from sqlmodel import SQLModel

from agent.store.alert_models import AlertDelivery, AlertOutbox, AlertReference, AlertState
from agent.store.credit_models import CreditLineRow, CreditViewMark
from agent.store.models import Finding, Observation, ObservationEvent, SourceStatus, SyncRun


def table_of(model: type[SQLModel]) -> Table:
    table = model.__table__  # type: ignore[attr-defined]
    assert isinstance(table, Table)
    return table


OBSERVATION = table_of(Observation)
OBSERVATION_EVENT = table_of(ObservationEvent)
SOURCE_STATUS = table_of(SourceStatus)
SYNC_RUN = table_of(SyncRun)
FINDING = table_of(Finding)
OUTBOX = table_of(AlertOutbox)
DELIVERY = table_of(AlertDelivery)
ALERT_STATE = table_of(AlertState)
REFERENCE = table_of(AlertReference)
CREDIT_LINE = table_of(CreditLineRow)
CREDIT_VIEW = table_of(CreditViewMark)
CREDIT_COLUMNS = tuple(c.name for c in CREDIT_LINE.columns if c.name != "id")
"""The columns of a stored credit line, in the order rows are written and read."""
