"""Graph application permissions in a scenario's world: which roles each of the partner's apps
holds in each tenant, and which roles each Graph endpoint accepts.

Entra issues an app-only token whose ``roles`` are the app role assignments of the app's service
principal in the tenant the token is for, and Graph authorizes each call by them; so a
customer that consented to fewer permissions refuses some reads with 403
``Authorization_RequestDenied`` while the partner tenant answers them. The fake connectors and
the emulator both ask this module, so they refuse the same reads.
"""

from __future__ import annotations

from connectors.base import PARTNER_APP
from connectors.records.scope import Source
from standin.scenario.model import CustomerSpec, Scenario

DEFAULT_GRAPH_ROLES: tuple[str, ...] = (
    "Directory.Read.All",
    "DelegatedAdminRelationship.Read.All",
    "Organization.Read.All",
    "Reports.Read.All",
    "Application.Read.All",
)
"""Graph application roles the partner's app holds when the scenario lists none: the read-only
set the agent needs. Carriers hold none by default (they only read ARM)."""

GRAPH_NEEDS: dict[str, tuple[str, ...]] = {
    "contracts": ("Directory.Read.All", "Directory.ReadWrite.All"),
    "gdap": ("DelegatedAdminRelationship.Read.All", "DelegatedAdminRelationship.ReadWrite.All"),
    "subscribedSkus": (
        "LicenseAssignment.Read.All",
        "Organization.Read.All",
        "Directory.Read.All",
        "Organization.ReadWrite.All",
        "Directory.ReadWrite.All",
    ),
    "directory/subscriptions": (
        "Organization.Read.All",
        "Directory.Read.All",
        "Organization.ReadWrite.All",
        "Directory.ReadWrite.All",
    ),
    "servicePrincipals": (
        "Application.Read.All",
        "Directory.Read.All",
        "Application.ReadWrite.All",
        "Directory.ReadWrite.All",
    ),
    "applications": (
        "Application.Read.All",
        "Directory.Read.All",
        "Application.ReadWrite.All",
        "Directory.ReadWrite.All",
    ),
    "reports": ("Reports.Read.All",),
}
"""Graph application roles of which an endpoint needs one (the permissions pages, least
privileged first)."""

CUSTOMER_ENDPOINTS: dict[Source, str] = {
    Source.GRAPH_SKUS: "subscribedSkus",
    Source.GRAPH_DIRECTORY_SUBSCRIPTIONS: "directory/subscriptions",
    Source.GRAPH_USAGE: "reports",
    Source.GRAPH_IDENTITIES: "servicePrincipals",
}
"""The Graph endpoint each customer-tenant Graph source reads."""

PARTNER_ENDPOINTS: dict[Source, str] = {
    Source.GRAPH_CONTRACTS: "contracts",
    Source.GRAPH_GDAP: "gdap",
}
"""The Graph endpoint each partner-tenant Graph source reads."""


def graph_roles(
    scenario: Scenario, customer: CustomerSpec | None, identity: str
) -> tuple[str, ...]:
    """The Graph application roles ``identity`` holds in the customer's tenant (``None``: the
    partner tenant): the customer's own ``app_roles`` for the partner's app where it lists
    them, else the app's roles, else the read-only default for the partner's app."""
    app = scenario.app(identity)
    if app is None:
        return ()
    if identity == PARTNER_APP and customer is not None and customer.app_roles is not None:
        return tuple(customer.app_roles)
    if app.roles is not None:
        return tuple(app.roles)
    return DEFAULT_GRAPH_ROLES if identity == PARTNER_APP else ()


def allowed(roles: tuple[str, ...], endpoint: str) -> bool:
    """Whether a token with ``roles`` may call a Graph ``endpoint`` (:data:`GRAPH_NEEDS`)."""
    return bool(set(roles).intersection(GRAPH_NEEDS[endpoint]))
