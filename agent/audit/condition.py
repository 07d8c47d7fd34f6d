"""What a dismissal accepts: a finding's *condition*, as one digest of its severity and its
evidence, leaving out the evidence fields that only count time or money.

A dismissed finding stays dismissed while every run sees the same condition; it reopens when
the digest changes: a link held by yet another partner, a relationship whose end date moved,
a credential replaced by one that expires too, an error that is not the one accepted, a
severity that rose (a GDAP relationship entering its last week). ``days_left``,
``missing_runs`` and the value at stake change from run to run without the condition
changing, so they are left out. Pure: no I/O.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

VOLATILE = frozenset(
    {
        "days_left",
        "missing_runs",
        "runs_to_confirm",
        "held_since_run",
        "held_because",
        "stake",
    }
)
"""Evidence keys that count time, runs or value, never part of the condition."""


def condition_of(severity: str, evidence: str) -> str:
    """The condition digest of a finding with this severity and evidence (JSON text, as the
    store keeps it)."""
    try:
        data: Any = json.loads(evidence or "{}")
    except ValueError:
        data = evidence
    if isinstance(data, dict):
        data = {key: value for key, value in data.items() if key not in VOLATILE}
    text = json.dumps([severity, data], sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]
