"""What a readiness check finds: one line per reader and scope (the partner tenant, or one
customer), readable or why not and the step that fixes it; a customer's lines together."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from agent.causes import Cause, CauseKind, fix_for
from agent.readiness.coverage import ReadCoverage


class State(StrEnum):
    READABLE = "readable"
    PARTIAL = "partial"
    """Part of what this reader reads can be read: some sources, some subscriptions."""
    BLOCKED = "blocked"
    WARNING = "warning"
    """Readable today, with something that needs attention (GDAP ended, more permission than
    a read-only agent needs)."""

    @property
    def reads(self) -> bool:
        """Whether this line lets everything it is about be read."""
        return self in (State.READABLE, State.WARNING)


@dataclass(frozen=True, slots=True)
class Check:
    """One reader in one tenant: the partner's app in Graph, in ARM, a carrier's PAL read..."""

    reader: str
    state: State
    cause: CauseKind | None = None
    words: str = ""
    code: str = ""
    fix: str = ""
    subjects: tuple[str, ...] = ()
    """What the cause is about: the missing roles, the subscriptions without a role."""

    @classmethod
    def ok(cls, reader: str, words: str = "") -> Check:
        return cls(reader, State.READABLE, words=words)

    @classmethod
    def failed(cls, reader: str, cause: Cause, *, who: str, tenant: str) -> Check:
        """A reader that could not read, from the cause of its error."""
        return cls(
            reader,
            State.BLOCKED,
            cause.kind,
            cause.words,
            cause.code,
            fix_for(cause.kind, who=who, tenant=tenant),
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "reader": self.reader,
            "state": self.state.value,
            "cause": self.cause.value if self.cause else None,
            "why": self.words,
            "code": self.code,
            "fix": self.fix,
            "subjects": list(self.subjects),
        }


@dataclass(slots=True)
class CustomerReadiness:
    """Every reader of one customer, with what its readability is worth."""

    tenant_id: str
    name: str
    checks: list[Check] = field(default_factory=list)
    seats: int = 0
    subscriptions: tuple[str, ...] = ()
    """The customer's Azure subscriptions the agent knows of (seen by ARM now, or known from
    Partner Center usage, insight reports or earlier reads)."""
    readable_subscriptions: tuple[str, ...] = ()
    """Those ARM lists to the partner's app and whose PAL reads succeed."""

    @property
    def readable(self) -> bool:
        return all(check.state.reads for check in self.checks)

    def as_dict(self) -> dict[str, Any]:
        return {
            "tenant_id": self.tenant_id,
            "name": self.name,
            "readable": self.readable,
            "seats": self.seats,
            "azure_subscriptions": list(self.subscriptions),
            "readable_azure_subscriptions": list(self.readable_subscriptions),
            "checks": [check.as_dict() for check in self.checks],
        }


@dataclass(slots=True)
class Readiness:
    """The whole check: the partner tenant's lines, every customer's, the coverage they add up
    to, and the floor it is held to (``[readiness] floor``, percent)."""

    partner: list[Check]
    customers: list[CustomerReadiness]
    coverage: ReadCoverage
    floor: float
    listed: bool = True
    """Whether the customers could be listed at all (Partner Center, else the store)."""

    def below_floor(self) -> list[str]:
        return self.coverage.below(self.floor)

    @property
    def partner_readable(self) -> bool:
        return all(check.state.reads for check in self.partner)

    @property
    def ok(self) -> bool:
        """Everything the floor asks for is readable, and so is the partner tenant."""
        return self.listed and self.partner_readable and not self.below_floor()

    def as_dict(self) -> dict[str, Any]:
        return {
            "coverage": self.coverage.as_dict(),
            "floor_percent": self.floor,
            "below_floor": self.below_floor(),
            "ok": self.ok,
            "partner": [check.as_dict() for check in self.partner],
            "customers": [customer.as_dict() for customer in self.customers],
        }
