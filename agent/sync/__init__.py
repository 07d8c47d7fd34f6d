"""Sync: run every connector, stamp what it read, record each scope's status.

The syncer (:mod:`agent.sync.syncer`) drives a run; each read (:mod:`~agent.sync.read`) goes
to the one writer (:mod:`~agent.sync.writer`), long ones through a spool on disk
(:mod:`~agent.sync.spool`); the change feed (:mod:`~agent.sync.feed`) lets unchanged scopes be
carried; :mod:`~agent.sync.scopes` builds the results recorded without a read.
"""

from agent.sync.feed import ChangeFeed
from agent.sync.outcome import Clock, Progress, SyncOutcome
from agent.sync.scopes import Applies, connector_requires
from agent.sync.spool import RecordSpool
from agent.sync.syncer import Syncer

__all__ = [
    "Applies",
    "ChangeFeed",
    "Clock",
    "Progress",
    "RecordSpool",
    "SyncOutcome",
    "Syncer",
    "connector_requires",
]
