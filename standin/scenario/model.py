"""The scenario: a partner's world as one JSON document (format: docs/scenario.md).

The fake connectors read it directly; the emulator serves it over HTTPS in Microsoft's shapes.
Times may be absolute (ISO 8601, with zone) or relative to the scenario's clock: ``"+20d"``,
``"-400d"``, ``"+6h"``; they are resolved once, when the scenario is loaded.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import cached_property
from typing import Literal

from pydantic import (
    Field,
    field_validator,
    model_validator,
)

from connectors.base import PARTNER_APP
from connectors.records.scope import Source
from standin.scenario.base import (
    Guid,
    PartnerId,
    PlacedError,
    TimeSpec,
    _Strict,
    _Timed,
)


class CredentialSpec(_Timed):
    """A secret or certificate of an app registration besides those the agent signs in with
    (a newer one not yet handed to the agent, an old one left behind)."""

    kind: Literal["secret", "certificate"] = "secret"
    expires: TimeSpec | None = None
    name: str = ""
    thumbprint: str | None = Field(
        default=None,
        pattern=r"^[0-9A-Fa-f]{40}$",
        description="A certificate's SHA-1 thumbprint (hex); default: derived.",
    )


class AppSpec(_Timed):
    """An app registration of the partner: its own app or a PAL carrier."""

    name: str = PARTNER_APP
    client_id: Guid
    client_secret: str = Field(min_length=8)
    certificate_thumbprints: list[str] = Field(
        default=[], description="SHA-1 thumbprints (hex) of certificates the app may sign in with."
    )
    credential_expires: TimeSpec | None = Field(
        default=None, description="When the app registration's newest credential expires."
    )
    roles: list[str] | None = Field(
        default=None,
        description="Graph application roles granted to the app (the emulator's tokens carry "
        "them); null: a read-only default for the partner's app, none for a carrier.",
    )
    status: Literal["active", "disabled", "deleted"] = Field(
        default="active",
        description="The app registration: disabled refuses its sign-in everywhere with "
        "AADSTS7000112, deleted with AADSTS700016 (a PAL carrier deleted or disabled).",
    )
    other_credentials: list[CredentialSpec] = Field(
        default=[],
        description="Secrets and certificates of the registration the agent does not sign in "
        "with; they are listed with the app's own (credential_expires).",
    )


class RefreshTokenSpec(_Timed):
    """The partner administrator's app+user refresh token as the emulator hands it to an agent
    that runs it in-process (as `partnerlink auth login` would have stored it)."""

    rotated: TimeSpec = Field(
        description="When it was last redeemed (Entra rotates it on every use); a token idle "
        "for more than 90 days is refused (AADSTS700082)."
    )
    signed_in: TimeSpec | None = Field(
        default=None,
        description="When the administrator signed in (device code); default: rotated.",
    )


class LocationSpec(_Strict):
    partner_id: PartnerId
    name: str = ""
    link_kinds: list[Literal["pal", "cpor", "dpor", "csp", "indirect_reseller", "gdap"]] = []


class PartnerSpec(_Timed):
    tenant_id: Guid
    name: str
    global_partner_id: PartnerId
    locations: list[LocationSpec] = []
    app: AppSpec
    carriers: list[AppSpec] = []
    refresh_token: RefreshTokenSpec | None = Field(
        default=None,
        description="The app+user refresh token's age (default: signed in and rotated now).",
    )


class IndirectResellerSpec(_Strict):
    partner_id: PartnerId
    name: str = ""
    tenant_id: Guid | None = None


class CspSubscriptionSpec(_Timed):
    id: Guid
    offer_id: str = ""
    offer_name: str = ""
    quantity: int = Field(default=1, ge=0)
    status: Literal["active", "suspended", "deleted", "pending", "none"] = "active"
    partner_id: PartnerId | None = Field(
        default=None, description="Reseller of record (indirect model)."
    )
    billing_type: Literal["license", "usage", "none"] = "license"
    created: TimeSpec | None = None


class AccessAssignmentSpec(_Strict):
    id: str
    group_id: Guid
    roles: list[Guid] = []
    status: str = "active"


class GdapSpec(_Timed):
    id: str
    display_name: str = ""
    status: str = Field(default="active", description="Any Graph status; unknown ones too.")
    roles: list[Guid] = []
    auto_extend_duration: str = "P180D"
    activated: TimeSpec | None = None
    ends: TimeSpec | None = None
    access_assignments: list[AccessAssignmentSpec] = []


class AzureSubscriptionSpec(_Strict):
    subscription_id: Guid
    display_name: str = ""
    state: Literal["Enabled", "Warned", "PastDue", "Disabled", "Deleted"] = "Enabled"
    managed_by_tenants: list[Guid] = []
    acr_usd: float = Field(default=0.0, ge=0)
    partner_on_record: PartnerId | None = None
    csp: bool = Field(
        default=True,
        description="Billed through the partner's Azure plan (CSP): Partner Center reports its "
        "usage. false: the customer buys it elsewhere (an Enterprise Agreement, a Microsoft "
        "Customer Agreement, another partner); only PAL, DPOR and the insight reports show it.",
    )


class RoleSpec(_Strict):
    scope: str = Field(description="An Azure subscription id, or a resource scope.")
    role: str = "Contributor"


class IdentitySpec(_Strict):
    """An identity in the customer tenant: the partner's app or a PAL carrier."""

    identity: str = Field(description='"partner-app" or the name of one of partner.carriers.')
    object_id: Guid | None = Field(
        default=None, description="Object id of its service principal; default: derived."
    )
    enabled: bool = True
    roles: list[RoleSpec] = []
    pal: PartnerId | None = Field(default=None, description="The partner ID it is linked to.")


class LicenceSpec(_Timed):
    sku_id: Guid
    sku_part_number: str
    subscription_id: Guid
    enabled_units: int = Field(default=0, ge=0)
    consumed_units: int = Field(default=0, ge=0)
    capability_status: str = "Enabled"
    owner_tenant_id: Guid | None = Field(
        default=None, description="Who bought it; default: the partner tenant."
    )
    is_trial: bool = False
    created: TimeSpec | None = None


class LicenceUsageSpec(_Strict):
    product: str
    workload: str = ""
    active: int = Field(default=0, ge=0)
    qualified: int = Field(default=0, ge=0)


class UsageSpec(_Strict):
    active_users: dict[str, int] = Field(
        default_factory=dict,
        description="Active users per Microsoft 365 workload (exchange, teams, sharepoint, ...).",
    )
    report_refresh_date: str = "2026-11-01"
    licence_usage: list[LicenceUsageSpec] = []


class AttributionSpec(_Strict):
    workload: str = Field(description='"m365", "business_apps", "security" or "azure:<sub id>".')
    type: Literal["DPOR", "CPOR", "PAL", "CSP", "TPOR", "RESELLER"]
    partner_id: PartnerId
    month: str = "2026-10"
    monthly_active_users: int | None = None
    acr_usd: float | None = None
    seats: int | None = None


class CustomerSpec(_Strict):
    tenant_id: Guid
    name: str
    domain: str = ""
    relationship: Literal["reseller", "advisor", "none"] | None = Field(
        default="reseller",
        description="relationshipToPartner in Partner Center; null: not a Partner Center customer.",
    )
    indirect_reseller: IndirectResellerSpec | None = None
    allow_delegated_access: bool | None = None
    consented: bool = Field(default=True, description="The partner's app has consent here.")
    consent_refusal: Literal["AADSTS7000229", "AADSTS700016", "AADSTS650052"] = Field(
        default="AADSTS7000229",
        description="How the token endpoint refuses the partner's app where it has no consent.",
    )
    app_roles: list[str] | None = Field(
        default=None,
        description="Graph application roles assigned to the partner's app in this tenant (its "
        "service principal's app role assignments); null: those of partner.app.",
    )
    contract_type: str | None = "ResellerPartner"
    csp_subscriptions: list[CspSubscriptionSpec] = []
    gdap: list[GdapSpec] = []
    azure_subscriptions: list[AzureSubscriptionSpec] = []
    identities: list[IdentitySpec] = []
    licences: list[LicenceSpec] = []
    usage: UsageSpec = UsageSpec()
    attribution: list[AttributionSpec] = []
    tags: list[str] = []


class AuditEventSpec(_Timed):
    id: str
    operation_type: str
    resource_type: str = "customer"
    customer_tenant_id: Guid | None = None
    date: TimeSpec
    status: str = "succeeded"


FaultKind = Literal["status", "timeout", "malformed", "truncated"]

LOGIN = "login"
"""The fault source of the sign-in (the token endpoint) rather than a source's reads."""


class FaultSpec(_Strict):
    """A fault the fake connectors and the emulator inject into a source's reads."""

    source: str = Field(description='A source row\'s name (e.g. "graph.gdap"), or "login".')
    scope: str = Field(default="*", description='"partner", a customer tenant id, or "*".')
    identity: str | None = Field(default=None, description="For arm.pal and login: which one.")
    call: str = Field(default="*", description='"*", "token", or "page:N" (N from 1).')
    kind: FaultKind = "status"
    status: int | None = Field(default=None, ge=400, le=599)
    retry_after: float | None = Field(default=None, ge=0)
    times: int | None = Field(default=None, ge=1, description="null: every time.")

    @field_validator("source")
    @classmethod
    def _known_source(cls, value: str) -> str:
        # Checked against the rows rather than spelled out in the schema, so that a new source
        # needs no new scenario format.
        names = [s.value for s in Source]
        if value != LOGIN and value not in names:
            raise ValueError(f"unknown source {value!r}: expected {LOGIN!r} or one of {names}")
        return value

    @model_validator(mode="after")
    def _status_needed(self) -> FaultSpec:
        if self.kind == "status" and self.status is None:
            raise ValueError("a fault of kind 'status' needs a status")
        if self.call not in {"*", "token"} and not re.fullmatch(r"page:[1-9]\d*", self.call):
            raise ValueError('call must be "*", "token" or "page:N"')
        return self

    def page(self) -> int | None:
        return int(self.call.split(":", 1)[1]) if self.call.startswith("page:") else None


class EmulatorSettings(_Strict):
    time_scale: float = Field(
        default=1.0, gt=0, description="Throttling windows are divided by this factor."
    )
    enforce_limits: bool = True
    latency_ms: float = Field(default=0.0, ge=0)


class Scenario(_Timed):
    """A whole partner world."""

    version: Literal[1] = 1
    name: str = "scenario"
    now: TimeSpec | None = Field(default=None, description="The world's clock; default: now.")
    partner: PartnerSpec
    customers: list[CustomerSpec] = []
    audit_events: list[AuditEventSpec] = []
    faults: list[FaultSpec] = []
    emulator: EmulatorSettings = EmulatorSettings()

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        seen: set[str] = set()
        for i, customer in enumerate(self.customers):
            if customer.tenant_id.lower() in seen:
                raise PlacedError(
                    ("customers", i, "tenant_id"), f"customer {customer.tenant_id} appears twice"
                )
            seen.add(customer.tenant_id.lower())
        apps = {PARTNER_APP} | {c.name for c in self.partner.carriers}
        for i, customer in enumerate(self.customers):
            for j, ident in enumerate(customer.identities):
                if ident.identity not in apps:
                    raise PlacedError(
                        ("customers", i, "identities", j, "identity"),
                        f"{ident.identity!r} is neither {PARTNER_APP!r} nor a carrier in "
                        "partner.carriers",
                    )
        return self

    def customer(self, tenant_id: str) -> CustomerSpec | None:
        return self._by_tenant.get(tenant_id.lower())

    @cached_property
    def _by_tenant(self) -> dict[str, CustomerSpec]:
        """Customers by lower-case tenant id (unique, see the validator): a lookup per read of
        a 20,000-customer world must not scan the list."""
        return {c.tenant_id.lower(): c for c in self.customers}

    def app(self, name: str) -> AppSpec | None:
        if name == PARTNER_APP:
            return self.partner.app
        return next((c for c in self.partner.carriers if c.name == name), None)

    @property
    def clock(self) -> datetime:
        return self.now or datetime.now(UTC)
