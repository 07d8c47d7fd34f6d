"""Whether a customer clears a rule's thresholds on the figures one snapshot holds.

A threshold that needs months the snapshot lacks (growth, the month before) is shown, never
judged; a figure that is missing, or money in another currency than the threshold's, makes the
answer "cannot tell", never "fails".
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from agent.recognition.facts import Facts
from agent.recognition.model import Rule, Threshold


class Outcome(StrEnum):
    CLEARS = "clears"
    BELOW = "below"
    ABOVE = "above"
    """Over a ceiling: the customer belongs to another track."""
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class Check:
    outcome: Outcome
    words: str
    unchecked: tuple[str, ...] = ()


def check(rule: Rule, facts: Facts) -> Check:
    """The rule's snapshot thresholds against the customer's figures."""
    unchecked = tuple(t.text for t in rule.thresholds if t.needs != "snapshot")
    live = [t for t in rule.thresholds if t.needs == "snapshot"]
    tenant = [t for t in live if t.scope == "tenant"]
    per_workload = [t for t in live if t.scope == "any_workload"]
    for threshold in tenant:
        result = _tenant(threshold, facts)
        if result.outcome is not Outcome.CLEARS:
            return Check(result.outcome, result.words, unchecked)
    if per_workload:
        result = _any_workload(per_workload, rule, facts)
        return Check(result.outcome, result.words, unchecked)
    return Check(Outcome.CLEARS, "", unchecked)


def _tenant(threshold: Threshold, facts: Facts) -> Check:
    if threshold.measure != "azure_revenue":
        return Check(Outcome.UNKNOWN, f"no figure for {threshold.text}")
    amount = facts.revenue.in_currency(threshold.unit)
    if amount is None:
        others = ", ".join(f"{v:,.2f} {k}" for k, v in sorted(facts.revenue.amounts.items()))
        if others:
            return Check(
                Outcome.UNKNOWN,
                f"Azure revenue is known only as {others}; the threshold is in {threshold.unit}",
            )
        return Check(Outcome.UNKNOWN, "no Azure revenue figure to compare with the threshold")
    if threshold.passes(amount):
        return Check(Outcome.CLEARS, "")
    shown = f"{amount:,.2f} {threshold.unit}"
    return Check(Outcome.BELOW, f"{shown} of Azure revenue; the rule needs {threshold.text}")


def _figure(measure: str, rule: Rule, workload: str, facts: Facts) -> float | None:
    seats = facts.seats.seats(workload) if facts.seats is not None else None
    if measure == "paid_seats":
        return seats
    users = facts.users(rule, workload)
    if measure == "monthly_active_users":
        return users
    if measure == "active_share":
        if users is None or not seats:
            return None
        return 100.0 * users / seats
    return None


def _any_workload(thresholds: list[Threshold], rule: Rule, facts: Facts) -> Check:
    """Pass when one licensed workload clears every threshold; else say how the largest fell.

    Over a ceiling wins over under a floor: a tenant with 400 seats of one workload belongs to
    the enterprise track, whatever its smaller workloads hold.
    """
    above: list[tuple[float, str]] = []
    below: list[tuple[float, str]] = []
    for workload in rule.workloads:
        if facts.seats is not None and not facts.seats.seats(workload.id):
            continue  # a workload the customer has no paid seat of
        figures = [_figure(t.measure, rule, workload.id, facts) for t in thresholds]
        if any(f is None for f in figures):
            continue
        failed = [
            (t, f or 0.0)
            for t, f in zip(thresholds, figures, strict=True)
            if not t.passes(f or 0.0)
        ]
        if not failed:
            return Check(Outcome.CLEARS, "")
        threshold, figure = failed[0]
        shown = f"{_fmt(figure, threshold.unit)} for {workload.name}"
        if all(t.is_ceiling for t, _ in failed):
            above.append((figure, f"{shown}; the rule allows {threshold.text}"))
        else:
            below.append((figure, f"{shown}; the rule needs {threshold.text}"))
    if above:
        return Check(Outcome.ABOVE, max(above, key=lambda x: x[0])[1])
    if below:
        return Check(Outcome.BELOW, max(below, key=lambda x: x[0])[1])
    wanted = " and ".join(t.text for t in thresholds)
    if facts.seats is not None and not _needs_users(thresholds):
        return Check(Outcome.BELOW, f"no paid seats of these workloads; the rule needs {wanted}")
    return Check(Outcome.UNKNOWN, f"no figures to check {wanted}")


def _needs_users(thresholds: list[Threshold]) -> bool:
    return any(t.measure in ("monthly_active_users", "active_share") for t in thresholds)


def _fmt(value: float, unit: str) -> str:
    if unit == "percent":
        return f"{value:.0f}%"
    if unit == "USD":
        return f"{value:,.2f} USD"
    return f"{int(value):,} {'paid seats' if unit == 'seats' else unit}"
