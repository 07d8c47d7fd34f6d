"""What each source answers for a scenario: the stand-in's side of every source row.

These records are the specification the fake connectors serve and the contract suite holds the
real connectors to (reading the emulator, they must yield exactly these). ``FAKES`` is keyed by
the source rows of :mod:`connectors.sources`; a test keeps the two in step.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date

from connectors.base import PARTNER_APP
from connectors.records.attribution import Attribution
from connectors.records.azure import AzureSubscription, AzureUsage
from connectors.records.customers import AuditEvent, Contract, CspSubscription, Customer
from connectors.records.gdap import GdapAccessAssignment, GdapRelationship, GdapStatus
from connectors.records.licences import (
    ActiveUsers,
    DirectorySubscription,
    LicenseUsage,
    SubscribedSku,
)
from connectors.records.pal import CredentialEnd, Identity, PalLink
from connectors.records.record import Record
from connectors.records.scope import Source
from connectors.text import TEXT_LIMIT, clean
from standin.scenario.model import CustomerSpec, Scenario
from standin.scenario.world import app_credentials, service_principals, visible_subscriptions


def _name(value: str | None) -> str | None:
    """A name as the real connectors' field readers leave it
    (``connectors.http.fields.name_text``): cleaned where it enters a record, ``None`` when
    nothing readable is left."""
    return clean(value) or None if value else None


M365_WORKLOADS = (
    "exchange",
    "onedrive",
    "sharepoint",
    "skype_for_business",
    "yammer",
    "teams",
    "office365",
)
"""Workloads of the Office 365 services user-counts report, in its column order."""


def _customers(scenario: Scenario, audit_since: date | None) -> Iterator[Record]:
    for c in scenario.customers:
        if c.relationship is None:
            continue
        yield Customer(
            tenant_id=c.tenant_id.lower(),
            name=clean(c.name),
            domain=_name(c.domain),
            relationship=c.relationship,
            associated_partner_id=(c.indirect_reseller.partner_id if c.indirect_reseller else None),
            allow_delegated_access=c.allow_delegated_access,
        )


def _contracts(scenario: Scenario, audit_since: date | None) -> Iterator[Record]:
    for c in scenario.customers:
        if c.contract_type is None:
            continue
        yield Contract(
            customer_tenant_id=c.tenant_id.lower(),
            contract_type=c.contract_type,
            display_name=_name(c.name),
            default_domain=_name(c.domain),
        )


def _gdap(scenario: Scenario, audit_since: date | None) -> Iterator[Record]:
    for c in scenario.customers:
        for g in c.gdap:
            yield GdapRelationship(
                relationship_id=g.id,
                customer_tenant_id=c.tenant_id.lower(),
                customer_name=_name(c.name),
                display_name=_name(g.display_name),
                status=GdapStatus.parse(g.status),
                raw_status=g.status,
                roles=tuple(r.lower() for r in g.roles),
                auto_extend_duration=g.auto_extend_duration,
                activated=g.activated,
                ends=g.ends,
            )
            for a in g.access_assignments:
                yield GdapAccessAssignment(
                    assignment_id=a.id,
                    relationship_id=g.id,
                    customer_tenant_id=c.tenant_id.lower(),
                    group_id=a.group_id.lower(),
                    roles=tuple(r.lower() for r in a.roles),
                    status=a.status,
                )


def _attribution(scenario: Scenario, audit_since: date | None) -> Iterator[Record]:
    for c in scenario.customers:
        for row in c.attribution:
            yield Attribution(
                customer_tenant_id=c.tenant_id.lower(),
                workload=row.workload.lower(),
                attribution_type=row.type,
                partner_id=row.partner_id,
                month=row.month,
                subscription_id=(
                    row.workload.split(":", 1)[1].lower()
                    if row.workload.startswith("azure:")
                    else None
                ),
                monthly_active_users=row.monthly_active_users,
                acr_usd=row.acr_usd,
                seats=row.seats,
            )


def _audit_records(scenario: Scenario, audit_since: date | None) -> Iterator[Record]:
    for e in scenario.audit_events:
        if audit_since is not None and e.date.date() < audit_since:
            continue
        yield AuditEvent(
            event_id=e.id,
            operation_type=e.operation_type,
            operation_date=e.date,
            resource_type=e.resource_type,
            customer_tenant_id=e.customer_tenant_id.lower() if e.customer_tenant_id else None,
            status=e.status,
        )


def _csp_subscriptions(
    scenario: Scenario, customer: CustomerSpec, identity: str | None
) -> Iterator[Record]:
    tenant = customer.tenant_id.lower()
    for s in customer.csp_subscriptions:
        yield CspSubscription(
            customer_tenant_id=tenant,
            subscription_id=s.id.lower(),
            offer_id=s.offer_id or None,
            offer_name=_name(s.offer_name),
            quantity=s.quantity,
            status=s.status,
            partner_id=s.partner_id,
            billing_type=s.billing_type,
            created=s.created,
        )


def _usage(scenario: Scenario, customer: CustomerSpec, identity: str | None) -> Iterator[Record]:
    tenant = customer.tenant_id.lower()
    for az in customer.azure_subscriptions:
        if not az.csp:
            continue  # not billed through our Partner Center
        yield AzureUsage(
            customer_tenant_id=tenant,
            resource_id=az.subscription_id.lower(),
            name=_name(az.display_name),
            total_cost=az.acr_usd,
            currency="USD",
            usd_total_cost=az.acr_usd,
            partner_on_record=az.partner_on_record,
        )
    for lu in customer.usage.licence_usage:
        yield LicenseUsage(
            customer_tenant_id=tenant,
            product=clean(lu.product, TEXT_LIMIT),
            workload=lu.workload or None,
            licenses_active=lu.active,
            licenses_qualified=lu.qualified,
        )


def _subscribed_skus(
    scenario: Scenario, customer: CustomerSpec, identity: str | None
) -> Iterator[Record]:
    tenant = customer.tenant_id.lower()
    grouped: dict[str, list[int]] = {}
    parts: dict[str, tuple[str, str]] = {}
    for lic in customer.licences:
        units = grouped.setdefault(lic.sku_id.lower(), [0, 0])
        units[0] += lic.enabled_units
        units[1] += lic.consumed_units
        parts.setdefault(lic.sku_id.lower(), (lic.sku_part_number, lic.capability_status))
    for sku_id, (enabled, consumed) in grouped.items():
        yield SubscribedSku(
            customer_tenant_id=tenant,
            sku_id=sku_id,
            sku_part_number=_name(parts[sku_id][0]),
            capability_status=parts[sku_id][1],
            enabled_units=enabled,
            consumed_units=consumed,
        )


def _directory_subscriptions(
    scenario: Scenario, customer: CustomerSpec, identity: str | None
) -> Iterator[Record]:
    tenant = customer.tenant_id.lower()
    for lic in customer.licences:
        yield DirectorySubscription(
            customer_tenant_id=tenant,
            subscription_id=lic.subscription_id.lower(),
            sku_id=lic.sku_id.lower(),
            sku_part_number=_name(lic.sku_part_number),
            status=lic.capability_status,
            total_licenses=lic.enabled_units,
            owner_tenant_id=(lic.owner_tenant_id or scenario.partner.tenant_id).lower(),
            is_trial=lic.is_trial,
        )


def _active_users(
    scenario: Scenario, customer: CustomerSpec, identity: str | None
) -> Iterator[Record]:
    tenant = customer.tenant_id.lower()
    for workload in M365_WORKLOADS:
        yield ActiveUsers(
            customer_tenant_id=tenant,
            workload=workload,
            active_users=customer.usage.active_users.get(workload, 0),
            report_refresh_date=customer.usage.report_refresh_date,
            period="D30",
        )


def _identities(
    scenario: Scenario, customer: CustomerSpec, identity: str | None
) -> Iterator[Record]:
    tenant = customer.tenant_id.lower()
    for sp in service_principals(scenario, customer):
        yield Identity(
            customer_tenant_id=tenant,
            identity=sp.identity,
            object_id=sp.object_id,
            app_id=sp.app_id,
            display_name=_name(sp.identity),
            enabled=sp.enabled,
            credential_expires=sp.credential_expires,
            credentials=_credentials(scenario, sp.identity),
        )


def _credentials(scenario: Scenario, identity: str) -> tuple[CredentialEnd, ...]:
    """The app registration's credentials, as the partner tenant lists them."""
    app = scenario.app(identity)
    if app is None:
        return ()
    return tuple(
        CredentialEnd(
            kind=c.kind, key_id=c.key_id, ends=c.ends, thumbprint=c.thumbprint, name=_name(c.name)
        )
        for c in app_credentials(app, identity)
    )


def _azure_subscriptions(
    scenario: Scenario, customer: CustomerSpec, identity: str | None
) -> Iterator[Record]:
    tenant = customer.tenant_id.lower()
    visible = set(visible_subscriptions(scenario, customer, PARTNER_APP))
    for az in customer.azure_subscriptions:
        if az.subscription_id.lower() not in visible:
            continue
        yield AzureSubscription(
            customer_tenant_id=tenant,
            subscription_id=az.subscription_id.lower(),
            display_name=_name(az.display_name),
            state=az.state,
            managed_by_tenants=tuple(t.lower() for t in az.managed_by_tenants),
        )


def _pal(scenario: Scenario, customer: CustomerSpec, identity: str | None) -> Iterator[Record]:
    tenant = customer.tenant_id.lower()
    name = identity or PARTNER_APP
    sp = next(p for p in service_principals(scenario, customer) if p.identity == name)
    pal = sp.spec.pal if sp.spec else None
    yield PalLink(
        customer_tenant_id=tenant,
        identity=name,
        object_id=sp.object_id,
        partner_id=pal,
        state="Active" if pal else None,
        subscriptions=sp.subscriptions,
    )


PartnerAnswer = Callable[[Scenario, date | None], Iterator[Record]]
"""A partner-scoped source's records; audit records from the date given on."""
CustomerAnswer = Callable[[Scenario, CustomerSpec, str | None], Iterator[Record]]
"""A customer-scoped source's records for one customer, as the identity given (or the
partner's app) reads them."""


@dataclass(frozen=True, slots=True)
class FakeSource:
    """How the stand-in answers one source."""

    partner: PartnerAnswer | None = None
    customer: CustomerAnswer | None = None
    signs_in_to_partner: bool = False
    """Read per customer through Partner Center, with a token of the partner tenant."""


FAKES: dict[Source, FakeSource] = {
    Source.PC_CUSTOMERS: FakeSource(partner=_customers),
    Source.PC_SUBSCRIPTIONS: FakeSource(customer=_csp_subscriptions, signs_in_to_partner=True),
    Source.PC_AUDIT: FakeSource(partner=_audit_records),
    Source.PC_USAGE: FakeSource(customer=_usage, signs_in_to_partner=True),
    Source.GRAPH_CONTRACTS: FakeSource(partner=_contracts),
    Source.GRAPH_GDAP: FakeSource(partner=_gdap),
    Source.GRAPH_SKUS: FakeSource(customer=_subscribed_skus),
    Source.GRAPH_DIRECTORY_SUBSCRIPTIONS: FakeSource(customer=_directory_subscriptions),
    Source.GRAPH_USAGE: FakeSource(customer=_active_users),
    Source.GRAPH_IDENTITIES: FakeSource(customer=_identities),
    Source.ARM_SUBSCRIPTIONS: FakeSource(customer=_azure_subscriptions),
    Source.ARM_PAL: FakeSource(customer=_pal),
    Source.INSIGHTS: FakeSource(partner=_attribution),
}
"""The stand-in's answer for every source, keyed by the source's row."""


def partner_records(
    scenario: Scenario, source: Source, *, audit_since: date | None = None
) -> Iterator[Record]:
    """Records of a partner-scoped source; audit records from ``audit_since`` on, as the
    connector's ``startDate`` asks Partner Center for."""
    answer = FAKES[source].partner
    if answer is None:
        raise ValueError(f"{source} is not a partner-scoped source")
    return answer(scenario, audit_since)


def customer_records(
    scenario: Scenario, source: Source, customer: CustomerSpec, identity: str | None = None
) -> Iterator[Record]:
    """Records of a customer-scoped source, as a successful read would return them."""
    answer = FAKES[source].customer
    if answer is None:
        raise ValueError(f"{source} is not a customer-scoped source")
    return answer(scenario, customer, identity)
