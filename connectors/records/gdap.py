"""Granular delegated admin (GDAP) relationships with customers and who holds their roles."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import ClassVar


class GdapStatus(StrEnum):
    """GDAP relationship states as Graph documents them; anything else is ``unknown`` (guarantee
    proven-absence)."""

    ACTIVATING = "activating"
    ACTIVE = "active"
    APPROVAL_PENDING = "approvalPending"
    APPROVED = "approved"
    CREATED = "created"
    EXPIRED = "expired"
    EXPIRING = "expiring"
    TERMINATED = "terminated"
    TERMINATING = "terminating"
    TERMINATION_REQUESTED = "terminationRequested"
    UNKNOWN = "unknown"

    @classmethod
    def parse(cls, raw: str | None) -> GdapStatus:
        for member in cls:
            if member.value == raw and member is not cls.UNKNOWN:
                return member
        return cls.UNKNOWN


GLOBAL_ADMINISTRATOR_ROLE = "62e90394-69f5-4237-9190-012177145e10"
"""Entra role template id of Global Administrator: its presence blocks GDAP auto-extend."""


@dataclass(frozen=True, slots=True, kw_only=True)
class GdapRelationship:
    """A granular delegated admin relationship with a customer."""

    KIND: ClassVar[str] = "gdap_relationship"
    relationship_id: str
    customer_tenant_id: str
    customer_name: str | None = None
    display_name: str | None = None
    status: GdapStatus = GdapStatus.UNKNOWN
    raw_status: str | None = None
    roles: tuple[str, ...] = ()
    auto_extend_duration: str | None = None
    activated: datetime | None = None
    ends: datetime | None = None

    @property
    def key(self) -> str:
        return self.relationship_id

    @property
    def auto_extends(self) -> bool:
        """Auto-extend is set and not blocked by the Global Administrator role."""
        duration = (self.auto_extend_duration or "").upper()
        return duration not in ("", "PT0S", "P0D") and GLOBAL_ADMINISTRATOR_ROLE not in self.roles


@dataclass(frozen=True, slots=True, kw_only=True)
class GdapAccessAssignment:
    """Which security group of the partner holds which roles under a GDAP relationship."""

    KIND: ClassVar[str] = "gdap_access_assignment"
    assignment_id: str
    relationship_id: str
    customer_tenant_id: str
    group_id: str | None = None
    roles: tuple[str, ...] = ()
    status: str | None = None

    @property
    def key(self) -> str:
        return f"{self.relationship_id}/{self.assignment_id}"
