"""What clients granted while the emulator runs, on top of the scenario: the partner's app
consented into customer tenants (Partner Center application consent), the Microsoft Graph app
roles assigned to it there, and Azure role assignments on customers' subscriptions.

Everything the emulator reads of a customer goes through :meth:`Grants.apply`, so a consent or
a role written by a client changes what the next read can see, as in Microsoft's cloud.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from standin.scenario.model import CustomerSpec, IdentitySpec, RoleSpec

GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
"""Microsoft Graph's application id, the same in every tenant."""

CONSENT_ROLES = frozenset(
    {
        "62e90394-69f5-4237-9190-012177145e10",  # Global Administrator
        "e8611ab8-c189-46e8-94e1-60213ab1f814",  # Privileged Role Administrator
        "158c047a-c907-4556-b7ef-446551a6b5f7",  # Cloud Application Administrator
        "9b895d92-2cd3-44c7-9d02-a6ac2d5ea5c3",  # Application Administrator
    }
)
"""GDAP roles (Entra role template ids) under which a partner user may consent an application
into a customer tenant through Partner Center: the roles the Partner Center consent API sample
asks of the GDAP relationship (Global, Privileged Role or Cloud Application Administrator), and
Application Administrator, which may grant the same consents."""

GRAPH_APP_ROLE_ROLES = frozenset(
    {
        "62e90394-69f5-4237-9190-012177145e10",  # Global Administrator
        "e8611ab8-c189-46e8-94e1-60213ab1f814",  # Privileged Role Administrator
    }
)
"""GDAP roles that may grant Microsoft Graph app roles (application permissions): Cloud
Application and Application Administrators may consent to any permission but those
("Grant tenant-wide admin consent to an application", prerequisites)."""

ROLE_DEFINITIONS = {
    "acdd72a7-3385-48ef-bd42-f606fba81ae7": "Reader",
    "b24988ac-6180-42a0-ab88-20f7382dd24c": "Contributor",
    "8e3af657-a8ff-443c-a75c-2fe8c4bcb635": "Owner",
}
"""Built-in Azure role definition ids the emulator knows."""


@dataclass
class Grants:
    """Consents and role assignments written by clients. Thread-safe."""

    consented: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Customer tenant -> the delegated Graph scopes granted with the consent."""
    app_roles: dict[str, set[str]] = field(default_factory=dict)
    """Customer tenant -> Graph app roles (by value) assigned to the partner's app."""
    azure: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)
    """(customer tenant, identity) -> subscription -> the role assigned to it there."""
    lock: threading.Lock = field(default_factory=threading.Lock)
    _patched: dict[str, CustomerSpec] = field(default_factory=dict)

    def consent(self, tenant: str, scopes: tuple[str, ...]) -> None:
        with self.lock:
            self.consented[tenant.lower()] = scopes
            self._patched.pop(tenant.lower(), None)

    def assign_app_role(self, tenant: str, role: str) -> bool:
        """Assign a Graph app role to the partner's app; ``False`` if it already had it."""
        with self.lock:
            held = self.app_roles.setdefault(tenant.lower(), set())
            if role in held:
                return False
            held.add(role)
            return True

    def assign_azure_role(self, tenant: str, identity: str, subscription: str, role: str) -> None:
        with self.lock:
            self.azure.setdefault((tenant.lower(), identity), {})[subscription.lower()] = role
            self._patched.pop(tenant.lower(), None)

    def written_consent(self, tenant: str) -> bool:
        with self.lock:
            return tenant.lower() in self.consented

    def assigned_app_roles(self, tenant: str) -> set[str]:
        with self.lock:
            return set(self.app_roles.get(tenant.lower(), ()))

    def apply(self, customer: CustomerSpec) -> CustomerSpec:
        """The customer as it is now: the scenario's, with what clients granted since."""
        tenant = customer.tenant_id.lower()
        with self.lock:
            if tenant not in self.consented and not any(t == tenant for t, _ in self.azure):
                return customer
            patched = self._patched.get(tenant)
            if patched is None:
                patched = self._patched[tenant] = self._patch(customer, tenant)
            return patched

    def _patch(self, customer: CustomerSpec, tenant: str) -> CustomerSpec:
        identities = list(customer.identities)
        for (where, name), subs in sorted(self.azure.items()):
            if where != tenant:
                continue
            roles = [RoleSpec(scope=sub, role=role) for sub, role in sorted(subs.items())]
            at = next((i for i, spec in enumerate(identities) if spec.identity == name), None)
            if at is None:
                identities.append(IdentitySpec(identity=name, roles=roles))
            else:
                spec = identities[at]
                identities[at] = spec.model_copy(update={"roles": [*spec.roles, *roles]})
        consented = customer.consented or tenant in self.consented
        return customer.model_copy(update={"consented": consented, "identities": identities})


def holder_of(customer: CustomerSpec, identity: str, subscription: str) -> str | None:
    """The role ``identity`` holds on ``subscription`` in the customer (``None``: none)."""
    spec = next((i for i in customer.identities if i.identity == identity), None)
    if spec is None:
        return None
    return next((r.role for r in spec.roles if r.scope.lower() == subscription.lower()), None)


__all__ = [
    "CONSENT_ROLES",
    "GRAPH_APP_ID",
    "GRAPH_APP_ROLE_ROLES",
    "ROLE_DEFINITIONS",
    "Grants",
    "holder_of",
]
