"""The writes of ``partnerlink access``, one value each, as the dry run lists them and the apply
sends them (:mod:`connectors.consent`, :mod:`connectors.role_assignments`)."""

from __future__ import annotations

from dataclasses import dataclass

from connectors.consent import CONSENT_SCOPES

CONSENT = "consent"
GRAPH_ROLES = "graph_roles"
AZURE_ROLE = "azure_role"
ORDER = {CONSENT: 0, GRAPH_ROLES: 1, AZURE_ROLE: 2}
"""Per customer, the order they must be made in: the consent creates the service principal the
app roles and the Azure role are given to."""


@dataclass(frozen=True, slots=True)
class AccessWrite:
    """One write in one customer tenant, for the partner's app."""

    kind: str
    tenant: str
    customer: str
    app_id: str
    roles: tuple[str, ...] = ()
    """``graph_roles``: the Microsoft Graph app roles to hold there."""
    subscription: str | None = None
    """``azure_role``: the subscription to give the app Reader on."""
    blocked: str | None = None
    """Why it cannot be made (a GDAP role missing, no Partner Center relationship): listed,
    never sent."""

    def describe(self) -> str:
        where = f"in {self.customer} ({self.tenant})"
        if self.kind == CONSENT:
            return (
                f"POST /v1/customers/{self.tenant}/applicationconsents: consent app "
                f"{self.app_id} with delegated Microsoft Graph {', '.join(CONSENT_SCOPES)} {where}"
            )
        if self.kind == GRAPH_ROLES:
            return (
                "POST /servicePrincipals/{microsoft graph}/appRoleAssignedTo: Microsoft Graph "
                f"app roles {', '.join(self.roles)} for app {self.app_id} {where}"
            )
        return (
            f"PUT /subscriptions/{self.subscription}/providers/Microsoft.Authorization/"
            f"roleAssignments: Reader for app {self.app_id} {where}"
        )

    @property
    def sort_key(self) -> tuple[str, str, int, str]:
        return (self.customer.lower(), self.tenant, ORDER[self.kind], self.subscription or "")
