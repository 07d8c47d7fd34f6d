"""The mass-disappearance guard (guarantee mass-loss-guard): when a source suddenly returns nothing,
or a large share of the known links of one kind vanish in one run, the audit does not believe it at
once.

An outage that answers "200, empty" looks exactly like every customer removing its links on the
same night. So before any finding is written the engine counts, over the whole estate, how many
links of each kind were known and how many vanished in this run (``LinkTally``: two integers per
kind, so 20,000 customers cost no memory), and compares each source's item count with the
previous run's (``source_anomalies``). The resulting ``Anomaly`` records travel in the
``AuditContext``: ``link_disappeared`` holds the disappearances they touch as ``suspect``, and
``source_anomaly`` raises one partner-level finding instead.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from agent.store.values import LinkState

MIN_LINKS = 5
"""A link kind needs at least this many known links before a share of them vanishing counts as
an anomaly: in a small estate, one customer of four dropping its PAL is 25 % and an ordinary
event, not an outage."""


_ALSO_PROVES = {"graph.identities": "arm.pal"}
"""A source whose read can prove another source's links gone: a PAL cannot outlive its identity
(``presence.absence_proven``), so an identities read that returns nothing is doubtful for PAL."""


class AnomalyScope(StrEnum):
    SOURCE = "source"
    """A source that returned items in the previous run returned none in this one."""
    LINK_KIND = "link_kind"
    """More than the configured share of the known links of one kind vanished in this run."""


@dataclass(frozen=True, slots=True)
class Anomaly:
    """One thing that changed too much in one run to be believed before the next run."""

    scope: AnomalyScope
    name: str
    """The source (``arm.pal``) or the link kind (``pal``)."""
    known: int
    """Items the source returned in the previous run, or links of the kind known before."""
    gone: int
    """Items missing now (all of them, for a source), or links that vanished this run."""

    def touches(self, kind: str, source: str) -> bool:
        """Whether a link of this kind, read from this source, is made doubtful by it."""
        if self.scope is AnomalyScope.LINK_KIND:
            return self.name == kind
        return source in (self.name, _ALSO_PROVES.get(self.name))

    @property
    def percent(self) -> float:
        return round(100.0 * self.gone / self.known, 1) if self.known else 0.0

    def describe(self) -> str:
        if self.scope is AnomalyScope.SOURCE:
            return (
                f"{self.name} returned nothing this run after {self.known} item(s) in the "
                "previous run"
            )
        return (
            f"{self.gone} of {self.known} {self.name.upper()} links ({self.percent:g} %) "
            "vanished in one run"
        )

    def as_dict(self) -> dict[str, object]:
        return {
            "scope": str(self.scope),
            "name": self.name,
            "known": self.known,
            "gone": self.gone,
            "percent": self.percent,
            "what": self.describe(),
        }


@dataclass(slots=True)
class LinkTally:
    """Per link kind: links known before this run, and links that vanished in it."""

    known: Counter[str] = field(default_factory=Counter)
    vanished: Counter[str] = field(default_factory=Counter)

    def add(self, states: Iterable[LinkState], run_id: int, since: datetime) -> None:
        """Count one customer's link states, as ``track_links`` left them for this run.

        Vanished: this run proved the link absent for the first time. Known: vanished, or
        present (or not judged this run) and first seen before this run started (``since``).
        Both read only the tracked state, so auditing the same run twice counts the same.
        """
        for state in states:
            if state.missing_runs == 1 and state.last_counted_run_id == run_id:
                self.vanished[state.kind] += 1
                self.known[state.kind] += 1
            elif state.missing_runs == 0 and state.first_seen_at < since:
                self.known[state.kind] += 1

    def anomalies(self, percent: float, min_links: int = MIN_LINKS) -> list[Anomaly]:
        """Kinds where more than ``percent`` % of at least ``min_links`` known links vanished."""
        return [
            Anomaly(AnomalyScope.LINK_KIND, kind, known, self.vanished[kind])
            for kind, known in sorted(self.known.items())
            if known >= min_links and self.vanished[kind] * 100.0 > percent * known
        ]


def source_anomalies(counts: Mapping[str, tuple[int, int]]) -> list[Anomaly]:
    """Sources that returned items last run and none now.

    ``counts`` maps a source to (items in the previous run, items in this run), summed over
    the scopes read completely in both runs: a scope that failed either time proves nothing.
    """
    return [
        Anomaly(AnomalyScope.SOURCE, source, before, before)
        for source, (before, now) in sorted(counts.items())
        if before >= 1 and now == 0
    ]
