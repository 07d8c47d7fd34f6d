"""The credit view: per customer, solution area and metric, which association holds the
recognition and whose it is, whether it counts for us, why not in plain words, what rides on
it (in its own unit), and the association that would count.

Pure: a function of one customer's snapshot, the partner's IDs and the rulebook; no I/O, no
clock. ``counts_for_us`` is ``None`` where the data cannot tell (a read failed, a figure is
missing): a blind spot is never reported as a loss.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from agent.recognition.facts import Facts, unseen_services
from agent.recognition.holdings import Holding, Us, Whose
from agent.recognition.model import AREA_NAMES, Association, Rule, Rulebook, Threshold
from agent.recognition.stake import Stake
from agent.recognition.thresholds import Outcome, check, judged

if TYPE_CHECKING:
    from agent.audit.snapshot import CustomerSnapshot


class Reason(StrEnum):
    COUNTS = "counts"
    OTHER_TRANSACTING_PARTNER = "other_transacting_partner"
    OTHER_PARTNER_OF_RECORD = "other_partner_of_record"
    WRONG_PARTNER_ID = "wrong_partner_id"
    PAL_MISSING = "pal_missing"
    TYPE_NOT_ELIGIBLE = "association_type_not_eligible"
    BELOW_THRESHOLD = "below_threshold"
    OUTSIDE_TRACK = "outside_track"
    NO_ASSOCIATION = "no_association"
    CANNOT_VERIFY = "cannot_verify"


METRIC_NAMES = {
    "net_customer_adds": "net customer adds",
    "usage_growth": "usage growth",
    "deployments": "deployments",
}


@dataclass(frozen=True, slots=True)
class Remedy:
    kind: Association
    partner_id: str | None
    words: str


@dataclass(frozen=True, slots=True)
class Shortfall:
    """Under a floor: the customer's figure and the threshold it falls short of."""

    figure: float
    threshold: Threshold

    @property
    def missing(self) -> float:
        """How much the figure lacks to clear the floor (``gt 10``: 11 is the first that
        clears)."""
        step = 1.0 if self.threshold.op == "gt" else 0.0
        return max(self.threshold.value + step - self.figure, 0.0)


@dataclass(frozen=True, slots=True)
class CreditLine:
    customer_tenant_id: str
    solution_area: str
    metric: str
    track: str
    rule_id: str
    holder: Holding | None
    """The association that holds the recognition (ours when it counts), if any is seen."""
    counts_for_us: bool | None
    reason: Reason
    words: str
    stake: Stake
    remedy: Remedy | None
    unchecked: tuple[str, ...] = ()
    """Thresholds that need months the snapshot lacks: shown, not judged."""
    sources: tuple[str, ...] = ()
    """URLs of the rule's public sources."""
    shortfall: Shortfall | None = None
    """Under a threshold: by how much (``below_threshold`` lines)."""

    @property
    def title(self) -> str:
        track = f" ({self.track.upper()} track)" if self.track != "all" else ""
        return f"{AREA_NAMES[self.solution_area]}: {METRIC_NAMES[self.metric]}{track}"


@dataclass(frozen=True, slots=True)
class _Verdict:
    holder: Holding | None
    counts: bool | None
    reason: Reason
    words: str
    unchecked: tuple[str, ...] = ()
    shortfall: Shortfall | None = None


def evaluate(snapshot: CustomerSnapshot, us: Us, book: Rulebook) -> list[CreditLine]:
    """Every credit line of one customer: one per solution area and metric (and track) whose
    workloads the customer shows, or whose data we could not read."""
    facts = Facts.of(snapshot, us, book)
    lines: list[CreditLine] = []
    for rule in book.rules:
        if not facts.present(rule) and not facts.workloads_unseen(rule):
            continue
        if not judged(book, rule, facts):
            continue  # the other track's rule: this tenant is measured on its own track
        verdict = _decide(rule, facts, us)
        remedy = _remedy(rule, verdict, us)
        for area in rule.solution_areas:
            lines.append(
                CreditLine(
                    customer_tenant_id=snapshot.tenant_id,
                    solution_area=area,
                    metric=rule.metric,
                    track=rule.track,
                    rule_id=rule.id,
                    holder=verdict.holder,
                    counts_for_us=verdict.counts,
                    reason=verdict.reason,
                    words=verdict.words,
                    stake=facts.stake(rule),
                    remedy=remedy,
                    unchecked=verdict.unchecked,
                    sources=tuple(dict.fromkeys(e.source.url for e in rule.evidence)),
                    shortfall=verdict.shortfall,
                )
            )
    return sorted(lines, key=lambda line: (line.solution_area, line.metric, line.track))


def _decide(rule: Rule, facts: Facts, us: Us) -> _Verdict:
    ids = frozenset(w.id for w in rule.workloads)
    held = [h for h in facts.holdings if h.covers(rule.families, ids)]
    eligible = set(rule.kinds)
    ours = [h for h in held if h.whose is Whose.OURS]
    ours_ok = [h for h in ours if h.kind in eligible]
    right = [h for h in ours_ok if not us.wrong_id(h.kind, h.holder)]
    others_ok = sorted(
        (h for h in held if h.whose is Whose.OTHER and h.kind in eligible),
        key=lambda h: h.kind is not Association.CSP,
    )
    if unseen_services(rule):
        names = ", ".join(s for w in rule.workloads for s in w.services)
        words = f"we could not verify: Azure revenue is not split by service, so the use of {names}"
        words += " is not visible"
        on_azure = [
            h
            for h in facts.holdings
            if h.whose is Whose.OURS and "azure" in h.families and h.kind in eligible
        ]
        return _Verdict(on_azure[0] if on_azure else None, None, Reason.CANNOT_VERIFY, words)
    if right:
        return _threshold_verdict(rule, facts, right[0])
    if ours_ok:
        wrong = ours_ok[0]
        words = (
            f"our {wrong.kind.upper()} names partner ID {wrong.holder}, which earns nothing "
            f"there (the global ID, or a location not meant for {wrong.kind.upper()}): "
            f"{wrong.evidence}"
        )
        return _Verdict(wrong, False, Reason.WRONG_PARTNER_ID, words)
    if others_ok:
        return _held_by_other(others_ok[0], eligible, facts)
    return _not_held(rule, facts, ours[0] if ours else None)


def _held_by_other(other: Holding, eligible: set[Association], facts: Facts) -> _Verdict:
    if other.kind is Association.CSP:
        words = f"another partner is the transacting partner: {other.evidence}"
        if not facts.reports_read and eligible & {Association.CPOR, Association.DPOR}:
            words += " (a CPOR or DPOR of ours shows only in the insight reports, not read)"
        return _Verdict(other, False, Reason.OTHER_TRANSACTING_PARTNER, words)
    words = f"{other.kind.upper()} names another partner ID: {other.evidence}"
    return _Verdict(other, False, Reason.OTHER_PARTNER_OF_RECORD, words)


def _not_held(rule: Rule, facts: Facts, ours: Holding | None) -> _Verdict:
    """No eligible association is seen: under a threshold, a blind spot, a PAL that is missing,
    ours of a type that does not count, or none at all."""
    eligible = set(rule.kinds)
    outside = _outside(rule, facts, ours) or _track_unknown(rule, facts, ours)
    if outside is not None:
        return outside
    blind = facts.blind_for(rule)
    if Association.PAL in eligible and facts.pal_unread:
        words = f"we could not verify our PAL: {', '.join(facts.pal_unread)} not read"
        return _Verdict(ours, None, Reason.CANNOT_VERIFY, words)
    if Association.PAL in eligible and facts.pal_gaps:
        words = "our PAL is missing on the resources that carry the usage: "
        return _Verdict(None, False, Reason.PAL_MISSING, words + "; ".join(facts.pal_gaps))
    if ours is not None:
        counted = ", ".join(e.label() for e in rule.associations)
        words = f"our {ours.kind.upper()} does not count for this metric, which counts {counted}"
        return _Verdict(ours, False, Reason.TYPE_NOT_ELIGIBLE, f"{words}: {ours.evidence}")
    if blind:
        words = f"we could not verify: {', '.join(blind)} not read"
        return _Verdict(None, None, Reason.CANNOT_VERIFY, words)
    if not facts.reports_read and eligible & {Association.CPOR, Association.DPOR}:
        words = "we could not verify: no association of ours is visible, and CPOR and DPOR "
        words += "show only in the insight reports, not read"
        return _Verdict(None, None, Reason.CANNOT_VERIFY, words)
    counted = ", ".join(e.label() for e in rule.associations)
    words = f"no association of ours that counts ({counted}) was seen"
    return _Verdict(None, False, Reason.NO_ASSOCIATION, words)


def _track_unknown(rule: Rule, facts: Facts, holder: Holding | None) -> _Verdict | None:
    """A rule of one track, where the seats that decide the tenant's track were not read."""
    if rule.track == "all" or facts.seats is not None:
        return None
    blind = ", ".join(facts.blind_for(rule)) or "the paid seats"
    words = f"we could not verify: the tenant's {rule.track.upper()} track rests on {blind}"
    return _Verdict(holder, None, Reason.CANNOT_VERIFY, words + ", not read")


def _threshold_verdict(rule: Rule, facts: Facts, ours: Holding) -> _Verdict:
    unknown = _track_unknown(rule, facts, ours)
    if unknown is not None:
        return unknown
    result = check(rule, facts)
    if result.outcome is Outcome.CLEARS:
        words = f"our {ours.kind.upper()} counts: {ours.evidence}"
        return _Verdict(ours, True, Reason.COUNTS, words, result.unchecked)
    outside = _outside(rule, facts, ours)
    if outside is not None:
        return outside
    words = f"we could not verify the threshold: {result.words}"
    blind = facts.blind_for(rule)
    if blind:
        words += f" ({', '.join(blind)} not read)"
    return _Verdict(ours, None, Reason.CANNOT_VERIFY, words, result.unchecked)


def _outside(rule: Rule, facts: Facts, holder: Holding | None = None) -> _Verdict | None:
    """Below a floor or over a ceiling, no association makes the tenant count here."""
    result = check(rule, facts)
    if result.outcome is Outcome.BELOW:
        words = f"the tenant is under the threshold: {result.words}"
        short = None
        if result.figure is not None and result.needed is not None:
            short = Shortfall(result.figure, result.needed)
        return _Verdict(holder, False, Reason.BELOW_THRESHOLD, words, result.unchecked, short)
    if result.outcome is Outcome.ABOVE:
        words = f"the tenant is outside this track: {result.words}"
        return _Verdict(holder, False, Reason.OUTSIDE_TRACK, words, result.unchecked)
    return None


_REMEDY_WORDS = {
    Association.PAL: "link partner ID {pid} with Partner Admin Link on the identities that "
    "manage the customer's resources",
    Association.CPOR: "file a CPOR claim{variant} for the workload in Partner Center naming "
    "partner ID {pid}",
    Association.DPOR: "ask the customer to name partner ID {pid} as Digital Partner of Record",
    Association.CSP: "sell the subscription through CSP",
}
_NO_REMEDY = frozenset({Reason.COUNTS, Reason.BELOW_THRESHOLD, Reason.OUTSIDE_TRACK})


def _remedy(rule: Rule, verdict: _Verdict, us: Us) -> Remedy | None:
    """The association that would count for us; none where it counts already or the gap is
    the customer's size, and none while we cannot tell."""
    if verdict.reason in _NO_REMEDY or verdict.counts is None:
        return None
    preferred = [a for a in rule.associations if a.kind is not Association.CSP]
    choice = preferred[0] if preferred else rule.associations[0]
    if verdict.reason is Reason.WRONG_PARTNER_ID and verdict.holder is not None:
        choice = rule.eligible(verdict.holder.kind) or choice
    pid = us.id_for(choice.kind)
    variant = f" ({', '.join(v.upper() for v in choice.variants)})" if choice.variants else ""
    words = _REMEDY_WORDS[choice.kind].format(pid=pid or "(ours)", variant=variant)
    return Remedy(choice.kind, pid, words)
