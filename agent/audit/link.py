"""Links as the audit speaks of them: one derived from today's observations, one the partner
expects, who holds a link that is ours by construction, and which kinds compete for one seat.

Plain data, no functions of a snapshot, so every audit module can name these types.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from connectors.records.links import LinkKind
from connectors.records.scope import Source

SELF = "self"
"""Holder of links that are ours by construction (our CSP customer list, our GDAP)."""
TENANT = "tenant"
"""The workload of links that concern the whole customer (CSP relationship, GDAP)."""

SEAT: dict[str, tuple[LinkKind, ...]] = {
    LinkKind.DPOR: (LinkKind.DPOR, LinkKind.CPOR),
    LinkKind.CPOR: (LinkKind.CPOR, LinkKind.DPOR),
    LinkKind.PAL: (LinkKind.PAL,),
    LinkKind.CSP: (LinkKind.CSP, LinkKind.INDIRECT_RESELLER),
    LinkKind.INDIRECT_RESELLER: (LinkKind.INDIRECT_RESELLER, LinkKind.CSP),
    LinkKind.GDAP: (LinkKind.GDAP,),
}
"""Link kinds that compete for the same recognition on a workload."""


@dataclass(frozen=True, slots=True)
class Expectation:
    """Where the partner expects its own link."""

    customer_tenant_id: str
    workload: str
    kind: LinkKind
    origin: str
    """``file`` (the managed-customers file) or ``default`` (domain.md defaults)."""


@dataclass(frozen=True, slots=True)
class DerivedLink:
    """A link as today's observations show it."""

    kind: LinkKind
    customer_tenant_id: str
    workload: str
    holder: str | None
    ref: str
    """What carries it: an identity (PAL), a relationship id (GDAP), ``microsoft`` (reports)."""
    source: Source
    detail: Mapping[str, Any] = field(default_factory=dict)
    fresh: bool = True
    """Read completely in this run; a stale link is last-known data from an earlier run."""

    @property
    def key(self) -> str:
        return "|".join(
            (self.kind, self.customer_tenant_id, self.workload, self.holder or "-", self.ref)
        )
