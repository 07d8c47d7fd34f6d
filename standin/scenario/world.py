"""Facts derived from a scenario that both the fake connectors and the emulator need.

Keeping them in one place is what makes "the fake yields what the real connectors read from the
emulator" true by construction rather than by coincidence.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from connectors.base import PARTNER_APP
from standin.scenario.model import CustomerSpec, IdentitySpec, Scenario

_NAMESPACE = uuid.UUID("5f0c2a52-6a5e-4b8e-9d55-0d1f6f1e2a10")


@dataclass(frozen=True, slots=True)
class ServicePrincipal:
    """An app's service principal in a customer tenant."""

    identity: str
    app_id: str
    object_id: str
    enabled: bool
    credential_expires: datetime | None
    subscriptions: tuple[str, ...]
    """Subscriptions it holds a role on (and that exist), lower-cased and sorted."""
    spec: IdentitySpec | None


def _object_id(customer: CustomerSpec, name: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"{customer.tenant_id.lower()}/{name}"))


def service_principals(scenario: Scenario, customer: CustomerSpec) -> list[ServicePrincipal]:
    """The partner's service principals that exist in the customer tenant.

    The partner's app exists where it has consent; a carrier where the scenario lists it.
    """
    existing = {s.subscription_id.lower() for s in customer.azure_subscriptions}
    made: list[ServicePrincipal] = []
    names = [PARTNER_APP] if customer.consented else []
    names += [i.identity for i in customer.identities if i.identity != PARTNER_APP]
    for name in names:
        app = scenario.app(name)
        if app is None:
            continue
        spec = next((i for i in customer.identities if i.identity == name), None)
        subs = sorted({r.scope.lower() for r in spec.roles} & existing) if spec else []
        made.append(
            ServicePrincipal(
                identity=name,
                app_id=app.client_id.lower(),
                object_id=(
                    spec.object_id if spec and spec.object_id else _object_id(customer, name)
                ).lower(),
                enabled=spec.enabled if spec else True,
                credential_expires=app.credential_expires,
                subscriptions=tuple(subs),
                spec=spec,
            )
        )
    return made


def service_principal(
    scenario: Scenario, customer: CustomerSpec, identity: str
) -> ServicePrincipal | None:
    return next(
        (sp for sp in service_principals(scenario, customer) if sp.identity == identity), None
    )


def visible_subscriptions(scenario: Scenario, customer: CustomerSpec, identity: str) -> list[str]:
    """Azure subscriptions an identity can list (ARM lists those it holds a role on)."""
    sp = service_principal(scenario, customer, identity)
    return list(sp.subscriptions) if sp else []


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why the identity platform refuses a token, in its own words."""

    aadsts: str
    message: str


def sign_in_refusal(
    scenario: Scenario, customer: CustomerSpec | None, identity: str
) -> Refusal | None:
    """Whether ``identity`` gets no token in the customer's tenant (``None``: the partner
    tenant), and why."""
    app = scenario.app(identity)
    if app is not None and app.status == "deleted":
        return Refusal("AADSTS700016", "the application was not found in the directory")
    if app is not None and app.status == "disabled":
        return Refusal("AADSTS7000112", "the application is disabled")
    if customer is None:
        return None
    sp = service_principal(scenario, customer, identity)
    if sp is None:
        if identity == PARTNER_APP:
            return Refusal(
                customer.consent_refusal,
                "the partner's app has no service principal (consent) in this tenant",
            )
        return Refusal("AADSTS700016", "the application was not found in the directory")
    if not sp.enabled:
        return Refusal("AADSTS7000112", "the application is disabled in this tenant")
    return None
