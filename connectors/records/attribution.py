"""Who Microsoft credits for a customer's workload, as the Partner Center insight reports say."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar


@dataclass(frozen=True, slots=True, kw_only=True)
class Attribution:
    """One row of the Partner Center insight reports: who Microsoft credits for a workload."""

    KIND: ClassVar[str] = "attribution"
    customer_tenant_id: str
    workload: str
    attribution_type: str
    """DPOR, CPOR, PAL, CSP, ... as the report spells it, upper-cased."""
    partner_id: str | None = None
    month: str | None = None
    subscription_id: str | None = None
    monthly_active_users: int | None = None
    acr_usd: float | None = None
    seats: int | None = None

    @property
    def key(self) -> str:
        # Reports are partner-scoped: the customer is part of the identity of a row.
        return (
            f"{self.customer_tenant_id}|{self.workload}|{self.attribution_type}|"
            f"{self.partner_id or ''}"
        )
