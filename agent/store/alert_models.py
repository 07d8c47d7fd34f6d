"""The alerting tables: the outbox, every delivery attempt, what each sink has been told
about each finding (the notification log the decision function reads), and the external id a
sink keeps for a finding (a ticket or incident number).

Outbox rows are written in the audit's own transaction, so a committed audit always has its
messages and a rolled-back one has none; a delivery row is committed before its request
leaves, so a crash mid-send still leaves a trace.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

from agent.store.types import UTCDateTime


class OutboxStatus(StrEnum):
    PENDING = "pending"
    CLAIMED = "claimed"
    SENT = "sent"
    FAILED = "failed"
    """Kept for the schema's vocabulary: a row whose last attempt failed is ``pending`` again
    (with ``last_error``) until it is sent or ``dead``."""
    DEAD = "dead"


class DeliveryStatus(StrEnum):
    SENDING = "sending"
    """Written before the request leaves; stays so if the process died mid-send."""
    SENT = "sent"
    TRANSIENT = "transient"
    PERMANENT = "permanent"


def _utc(nullable: bool = False) -> Column[datetime]:
    return Column(UTCDateTime(), nullable=nullable)


class AlertOutbox(SQLModel, table=True):
    __tablename__ = "alert_outbox"
    __table_args__ = (
        Index("ix_alert_outbox_due", "status", "next_attempt_at"),
        Index("ix_alert_outbox_dedup", "dedup_key", "sink"),
    )

    id: int | None = Field(default=None, primary_key=True)
    dedup_key: str = Field(max_length=64)
    kind: str = Field(max_length=16)
    sink: str = Field(max_length=64)
    payload: str = Field(sa_column=Column(Text, nullable=False))
    status: str = Field(default=OutboxStatus.PENDING, max_length=16)
    attempts: int = 0
    next_attempt_at: datetime = Field(sa_column=_utc())
    claimed_by: str | None = Field(default=None, max_length=120)
    claimed_at: datetime | None = Field(default=None, sa_column=_utc(True))
    sent_at: datetime | None = Field(default=None, sa_column=_utc(True))
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    created_at: datetime = Field(sa_column=_utc())
    run_id: int | None = Field(default=None, index=True)


class AlertDelivery(SQLModel, table=True):
    """One attempt to deliver one outbox row."""

    __tablename__ = "alert_delivery"

    id: int | None = Field(default=None, primary_key=True)
    outbox_id: int = Field(foreign_key="alert_outbox.id", index=True)
    attempt: int
    sink: str = Field(max_length=64)
    worker: str = Field(max_length=120)
    at: datetime = Field(sa_column=_utc())
    status: str = Field(default=DeliveryStatus.SENDING, max_length=16)
    status_code: int | None = None
    error: str | None = Field(default=None, sa_column=Column(Text))
    duration_ms: float | None = None


class AlertState(SQLModel, table=True):
    """What one sink has been sent about one finding: the history ``decide`` reads."""

    __tablename__ = "alert_state"
    __table_args__ = (Index("ix_alert_state_open", "open_episode"),)

    fingerprint: str = Field(primary_key=True, max_length=64)
    sink: str = Field(primary_key=True, max_length=64)
    last_action: str = Field(max_length=16)
    last_at: datetime = Field(sa_column=_utc())
    open_episode: bool = True
    outbox_id: int | None = None
    run_id: int | None = None


class AlertReference(SQLModel, table=True):
    """The id one sink's service gave one finding (a ticket or incident number), kept so the
    next send and the resolve of that finding can name it."""

    __tablename__ = "alert_reference"

    sink: str = Field(primary_key=True, max_length=64)
    fingerprint: str = Field(primary_key=True, max_length=64)
    external_id: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(sa_column=_utc())
    updated_at: datetime = Field(sa_column=_utc())
