"""The readable share of the estate as the newest audited run recorded it (the audit counts it
from what the run read, agent.audit.outcome): what /metrics and the report show."""

from __future__ import annotations

import json

from agent.readiness.coverage import ReadCoverage
from agent.store import Store

RUNS_LOOKED_AT = 20
"""Newest runs looked through for the last audited one (skipped runs come between)."""


def last_readable(store: Store) -> ReadCoverage | None:
    for run in store.runs(RUNS_LOOKED_AT):
        if run.audited_at is None:
            continue
        figures = json.loads(run.stats or "{}").get("coverage", {}).get("readable")
        if figures:
            return ReadCoverage.from_dict(figures)
    return None
