"""The condition a dismissal accepts: what changes it and what does not."""

from __future__ import annotations

import json

from agent.audit.condition import VOLATILE, condition_of

HELD = {"holder": "1111111", "workload": "Azure", "carried_by": "partner-app"}


def _of(severity: str = "high", **evidence: object) -> str:
    return condition_of(severity, json.dumps(evidence))


def test_counts_of_time_runs_and_value_leave_the_condition_as_it_was() -> None:
    base = _of(**HELD, days_left=30, missing_runs=2, stake={"acr_usd": 100})
    later = _of(**HELD, days_left=29, missing_runs=3, stake={"acr_usd": 250})
    assert base == later
    assert {"days_left", "missing_runs", "stake"} <= VOLATILE


def test_another_holder_another_end_date_or_a_higher_severity_change_it() -> None:
    base = _of(**HELD)
    assert _of(**{**HELD, "holder": "2222222"}) != base
    assert _of(**HELD, ends="2027-01-31") != _of(**HELD, ends="2027-03-31")
    assert _of("critical", **HELD) != base


def test_key_order_and_unreadable_evidence_are_handled() -> None:
    assert condition_of("high", '{"a": 1, "b": 2}') == condition_of("high", '{"b": 2, "a": 1}')
    assert condition_of("high", "not json") != condition_of("high", "other text")
    assert len(condition_of("high", "")) == 32
