"""Whether a customer clears a rule's thresholds on the figures one snapshot holds.

A threshold that needs months the snapshot lacks (growth, the month before) is shown, never
judged; a figure that is missing, or money in another currency than the threshold's, makes the
answer "cannot tell", never "fails".
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from agent.recognition.facts import Facts
from agent.recognition.model import Rule, Rulebook, Threshold


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
    figure: float | None = None
    """Below a floor: the customer's figure that fell short (of ``needed``)."""
    needed: Threshold | None = None


def check(rule: Rule, facts: Facts) -> Check:
    """The rule's snapshot thresholds against the customer's figures."""
    unchecked = tuple(t.text for t in rule.thresholds if t.needs != "snapshot")
    live = [t for t in rule.thresholds if t.needs == "snapshot"]
    tenant = [t for t in live if t.scope == "tenant"]
    per_workload = [t for t in live if t.scope == "any_workload"]
    for threshold in tenant:
        result = _tenant(threshold, facts)
        if result.outcome is not Outcome.CLEARS:
            return replace(result, unchecked=unchecked)
    if per_workload:
        return replace(_any_workload(per_workload, rule, facts), unchecked=unchecked)
    return Check(Outcome.CLEARS, "", unchecked)


def track(book: Rulebook, area: str, facts: Facts) -> str | None:
    """The customer's track in a solution area with tracks (``None``: no tracks there, or
    the figures that decide it were not read)."""
    split = book.tracks.get(area)
    if split is None or facts.seats is None:
        return None
    outcome = check(split.as_rule(), facts).outcome
    if outcome is Outcome.CLEARS:
        return split.above
    if outcome in (Outcome.BELOW, Outcome.ABOVE):
        return split.otherwise
    return None


def judged(book: Rulebook, rule: Rule, facts: Facts) -> bool:
    """Whether the rule applies to the customer's track: a rule of the enterprise track is not
    judged for a tenant of the SMB track, nor the other way round."""
    if rule.track == "all":
        return True
    return all(track(book, area, facts) in (None, rule.track) for area in rule.solution_areas)


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
    words = f"{shown} of Azure revenue; the rule needs {threshold.text}"
    return Check(Outcome.BELOW, words, figure=amount, needed=threshold)


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
    below: list[tuple[float, str, Threshold]] = []
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
            below.append((figure, f"{shown}; the rule needs {threshold.text}", threshold))
    if above:
        return Check(Outcome.ABOVE, max(above, key=lambda x: x[0])[1])
    if below:
        figure, words, needed = max(below, key=lambda x: x[0])
        return Check(Outcome.BELOW, words, figure=figure, needed=needed)
    wanted = " and ".join(t.text for t in thresholds)
    if facts.seats is not None and not _needs_users(thresholds):
        floor = next((t for t in thresholds if not t.is_ceiling), None)
        words = f"no paid seats of these workloads; the rule needs {wanted}"
        return Check(Outcome.BELOW, words, figure=0.0, needed=floor)
    return Check(Outcome.UNKNOWN, f"no figures to check {wanted}")


def _needs_users(thresholds: list[Threshold]) -> bool:
    return any(t.measure in ("monthly_active_users", "active_share") for t in thresholds)


def _fmt(value: float, unit: str) -> str:
    if unit == "percent":
        return f"{value:.0f}%"
    if unit == "USD":
        return f"{value:,.2f} USD"
    return f"{int(value):,} {'paid seats' if unit == 'seats' else unit}"
