"""The run's blind spots: every read that did not complete, grouped by reader (agent.readers:
Graph in the customer's tenant, ARM, a carrier's PAL read...) and cause across customers, so
that one finding says "consent missing: cannot verify graph for 40 customers" instead of forty
findings (or a hundred and sixty, one per Graph source) saying it once each (guarantee
failed-read).

The engine builds them once per audit from the run's read statuses (like the anomalies) and puts
them in the context; the ``cannot_verify`` rule turns each into a partner-level finding.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from agent.causes import Cause, CauseKind, as_identity, cause_of
from agent.readers import reader_of
from connectors.records.scope import PARTNER_SCOPE


@dataclass(frozen=True, slots=True)
class Unread:
    """One (source, scope) that did not complete: whose it was, the raw code and error."""

    tenant: str | None
    """``None``: the partner scope."""
    name: str
    source: str
    cause: Cause
    status: str
    error: str


@dataclass(frozen=True, slots=True)
class BlindSpot:
    """A source that could not be read for one cause, with every scope it hit."""

    source: str
    """The reader (agent.readers): ``graph``, ``arm``, ``pal as ops``..."""
    identity: str | None
    kind: CauseKind
    unread: tuple[Unread, ...]

    @property
    def partner(self) -> bool:
        return any(u.tenant is None for u in self.unread)

    @property
    def customers(self) -> tuple[Unread, ...]:
        """One entry per customer it hit (the first of its sources)."""
        seen: dict[str, Unread] = {}
        for u in self.unread:
            if u.tenant is not None:
                seen.setdefault(u.tenant, u)
        return tuple(seen.values())

    @property
    def sources(self) -> list[str]:
        """The sources behind the reader that did not complete."""
        return sorted({u.source for u in self.unread})

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
    """Group (source, scope, status, error) of the reads that did not complete by reader and
    cause; ``names`` gives customer names by tenant id."""
    grouped: dict[tuple[str, str | None, CauseKind], list[Unread]] = defaultdict(list)
    for source, scope, status, error in failures:
        tenant, _, identity = scope.partition("/")
        cause = as_identity(cause_of(status, error), identity or None)
        customer = None if tenant == PARTNER_SCOPE else tenant
        name = names.get(customer, customer) if customer else "the partner tenant"
        reader = reader_of(source, identity or None, partner_scope=customer is None)
        grouped[(reader, identity or None, cause.kind)].append(
            Unread(customer, name, source, cause, status, error)
        )
    spots = [
        BlindSpot(
            source=reader,
            identity=identity,
            kind=kind,
            unread=tuple(
                sorted(unread, key=lambda u: (u.tenant is not None, u.name, u.tenant, u.source))
            ),
        )
        for (reader, identity, kind), unread in grouped.items()
    ]
    return tuple(sorted(spots, key=lambda s: (s.source, s.kind.value)))
