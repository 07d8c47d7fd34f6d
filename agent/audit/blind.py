"""The run's blind spots: every read that did not complete, grouped by source and cause across
customers, so that one finding says "consent missing for graph.subscribed_skus in 40 customers"
instead of forty findings saying it once each (guarantee failed-read).

The engine builds them once per audit from the run's read statuses (like the anomalies) and puts
them in the context; the ``cannot_verify`` rule turns each into a partner-level finding.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from agent.causes import Cause, CauseKind, cause_of
from connectors.records.scope import PARTNER_SCOPE


@dataclass(frozen=True, slots=True)
class Unread:
    """One (source, scope) that did not complete: whose it was, the raw code and error."""

    tenant: str | None
    """``None``: the partner scope."""
    name: str
    cause: Cause
    status: str
    error: str


@dataclass(frozen=True, slots=True)
class BlindSpot:
    """A source that could not be read for one cause, with every scope it hit."""

    source: str
    """The source, with the identity it was read as where it has one: ``arm.pal as ops``."""
    identity: str | None
    kind: CauseKind
    unread: tuple[Unread, ...]

    @property
    def partner(self) -> bool:
        return any(u.tenant is None for u in self.unread)

    @property
    def customers(self) -> tuple[Unread, ...]:
        return tuple(u for u in self.unread if u.tenant is not None)

    @property
    def codes(self) -> list[str]:
        """The raw codes behind the cause, as Microsoft answered them."""
        return sorted({u.cause.code for u in self.unread})

    @property
    def words(self) -> str:
        """What the codes mean, the most frequent meaning first."""
        counts: dict[str, int] = defaultdict(int)
        for u in self.unread:
            counts[u.cause.words] += 1
        return sorted(counts, key=lambda w: (-counts[w], w))[0]


def blind_spots(
    failures: Iterable[tuple[str, str, str, str]], names: Mapping[str, str]
) -> tuple[BlindSpot, ...]:
    """Group (source, scope, status, error) of the reads that did not complete by source (and
    identity) and cause; ``names`` gives customer names by tenant id."""
    grouped: dict[tuple[str, str | None, CauseKind], list[Unread]] = defaultdict(list)
    for source, scope, status, error in failures:
        tenant, _, identity = scope.partition("/")
        cause = cause_of(status, error)
        customer = None if tenant == PARTNER_SCOPE else tenant
        name = names.get(customer, customer) if customer else "the partner tenant"
        grouped[(source, identity or None, cause.kind)].append(
            Unread(customer, name, cause, status, error)
        )
    spots = [
        BlindSpot(
            source=f"{source} as {identity}" if identity else source,
            identity=identity,
            kind=kind,
            unread=tuple(sorted(unread, key=lambda u: (u.tenant is not None, u.name, u.tenant))),
        )
        for (source, identity, kind), unread in grouped.items()
    ]
    return tuple(sorted(spots, key=lambda s: (s.source, s.kind.value)))
