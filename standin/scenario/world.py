"""Facts derived from a scenario that both the fake connectors and the emulator need.

Keeping them in one place is what makes "the fake yields what the real connectors read from the
emulator" true by construction rather than by coincidence.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from connectors.base import PARTNER_APP
from standin.scenario.model import AppSpec, CustomerSpec, IdentitySpec, Scenario

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


@dataclass(frozen=True, slots=True)
class AppCredential:
    """A secret or certificate of an app registration, as Graph lists it."""

    kind: str
    """``secret`` or ``certificate``."""
    key_id: str
    ends: datetime | None
    thumbprint: str | None
    name: str


def app_credentials(app: AppSpec, name: str) -> list[AppCredential]:
    """The registration's secrets and certificates, the latest-ending first (those without an
    end last; among equals, secrets before certificates).

    With ``credential_expires`` the app holds its secret and every certificate it signs in
    with, all ending then; ``other_credentials`` come besides (none without an expiry, so an
    app with neither lists nothing and its expiry is unknown)."""
    client = app.client_id.lower()
    made: list[AppCredential] = []
    if app.credential_expires is not None:
        made.append(
            AppCredential(
                "secret", _derived("password", client), app.credential_expires, None, "partnerlink"
            )
        )
        made += [
            AppCredential(
                "certificate",
                _derived("key", client, thumb.lower()),
                app.credential_expires,
                thumb.upper(),
                f"CN={name}",
            )
            for thumb in app.certificate_thumbprints
        ]
    for i, other in enumerate(app.other_credentials):
        thumb = other.thumbprint or hashlib.sha1(f"{client}/{i}".encode()).hexdigest()  # noqa: S324
        made.append(
            AppCredential(
                other.kind,
                _derived("other", client, str(i)),
                other.expires,
                thumb.upper() if other.kind == "certificate" else None,
                other.name or f"{other.kind} {i + 1}",
            )
        )
    secrets_first = sorted(made, key=lambda c: c.kind != "secret")
    return sorted(
        secrets_first, key=lambda c: (c.ends is None, -(c.ends.timestamp() if c.ends else 0))
    )


def _derived(*parts: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, "/".join(parts)))


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
                credential_expires=max(
                    (c.ends for c in app_credentials(app, name) if c.ends), default=None
                ),
                subscriptions=tuple(subs),
                spec=spec,
            )
        )
    return made


def service_principal(
    scenario: Scenario,
    customer: CustomerSpec,
    identity: str,
    *,
    principals: Sequence[ServicePrincipal] | None = None,
) -> ServicePrincipal | None:
    """``identity``'s service principal in the customer tenant; ``principals``: the tenant's
    :func:`service_principals`, where the caller has them already."""
    if principals is None:
        principals = service_principals(scenario, customer)
    return next((sp for sp in principals if sp.identity == identity), None)


def visible_subscriptions(
    scenario: Scenario,
    customer: CustomerSpec,
    identity: str,
    *,
    principals: Sequence[ServicePrincipal] | None = None,
) -> list[str]:
    """Azure subscriptions an identity can list (ARM lists those it holds a role on)."""
    sp = service_principal(scenario, customer, identity, principals=principals)
    return list(sp.subscriptions) if sp else []


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why the identity platform refuses a token, in its own words."""

    aadsts: str
    message: str


def sign_in_refusal(
    scenario: Scenario,
    customer: CustomerSpec | None,
    identity: str,
    *,
    principals: Sequence[ServicePrincipal] | None = None,
) -> Refusal | None:
    """Whether ``identity`` gets no token in the customer's tenant (``None``: the partner
    tenant), and why; ``principals`` as for :func:`service_principal`."""
    app = scenario.app(identity)
    if app is not None and app.status == "deleted":
        return Refusal("AADSTS700016", "the application was not found in the directory")
    if app is not None and app.status == "disabled":
        return Refusal("AADSTS7000112", "the application is disabled")
    if customer is None:
        return None
    sp = service_principal(scenario, customer, identity, principals=principals)
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
