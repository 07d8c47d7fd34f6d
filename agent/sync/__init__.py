"""Sync: run every connector, stamp what it read, record each scope's status (see
:mod:`agent.sync.syncer`)."""

from agent.sync.syncer import ChangeFeed, Progress, RecordSpool, Syncer, SyncOutcome

__all__ = ["ChangeFeed", "Progress", "RecordSpool", "SyncOutcome", "Syncer"]
