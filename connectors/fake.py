"""Scenario-driven in-memory connectors: the same records the real connectors yield, no HTTP.

``world_records`` is the specification of what each source reports for a scenario; the shared
contract suite checks that the real connectors reading the emulator yield exactly these records.
Faults of the scenario are honoured with the real connectors' retry policy (without sleeping).
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from connectors.errors import (
    AuthError,
    ConnectorError,
    IncompleteListing,
    MalformedResponse,
    ThrottledError,
    TransientError,
    error_for_status,
)
from connectors.paging import page_count
from connectors.records import (
    ActiveUsers,
    Attribution,
    AuditEvent,
    AzureSubscription,
    AzureUsage,
    Contract,
    CspSubscription,
    Customer,
    DirectorySubscription,
    GdapAccessAssignment,
    GdapRelationship,
    GdapStatus,
    Identity,
    LicenseUsage,
    PalLink,
    Record,
    ScopeKind,
    Source,
    SubscribedSku,
)
from connectors.retry_after import DEFAULT_RETRY, RetryPolicy
from connectors.scenario.model import PARTNER_APP, CustomerSpec, FaultSpec, Scenario
from connectors.scenario.world import service_principals, sign_in_refusal, visible_subscriptions
from connectors.text import TEXT_LIMIT, clean

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

SCOPE_KINDS: dict[Source, ScopeKind] = {
    Source.PC_CUSTOMERS: ScopeKind.PARTNER,
    Source.PC_AUDIT: ScopeKind.PARTNER,
    Source.GRAPH_CONTRACTS: ScopeKind.PARTNER,
    Source.GRAPH_GDAP: ScopeKind.PARTNER,
    Source.INSIGHTS: ScopeKind.PARTNER,
    Source.PC_SUBSCRIPTIONS: ScopeKind.CUSTOMER,
    Source.PC_USAGE: ScopeKind.CUSTOMER,
    Source.GRAPH_SKUS: ScopeKind.CUSTOMER,
    Source.GRAPH_DIRECTORY_SUBSCRIPTIONS: ScopeKind.CUSTOMER,
    Source.GRAPH_USAGE: ScopeKind.CUSTOMER,
    Source.GRAPH_IDENTITIES: ScopeKind.CUSTOMER,
    Source.ARM_SUBSCRIPTIONS: ScopeKind.CUSTOMER,
    Source.ARM_PAL: ScopeKind.CUSTOMER,
}

KINDS: dict[Source, tuple[str, ...]] = {
    Source.PC_CUSTOMERS: (Customer.KIND,),
    Source.PC_AUDIT: (AuditEvent.KIND,),
    Source.GRAPH_CONTRACTS: (Contract.KIND,),
    Source.GRAPH_GDAP: (GdapRelationship.KIND, GdapAccessAssignment.KIND),
    Source.INSIGHTS: (Attribution.KIND,),
    Source.PC_SUBSCRIPTIONS: (CspSubscription.KIND,),
    Source.PC_USAGE: (AzureUsage.KIND, LicenseUsage.KIND),
    Source.GRAPH_SKUS: (SubscribedSku.KIND,),
    Source.GRAPH_DIRECTORY_SUBSCRIPTIONS: (DirectorySubscription.KIND,),
    Source.GRAPH_USAGE: (ActiveUsers.KIND,),
    Source.GRAPH_IDENTITIES: (Identity.KIND,),
    Source.ARM_SUBSCRIPTIONS: (AzureSubscription.KIND,),
    Source.ARM_PAL: (PalLink.KIND,),
}
"""What each source yields: the kinds a complete read of it may mark removed."""

REQUIRES: dict[Source, Source] = {
    Source.PC_SUBSCRIPTIONS: Source.PC_CUSTOMERS,
    Source.PC_USAGE: Source.PC_CUSTOMERS,
}
"""Customer sources that exist only for customers another (partner) source lists."""


# ---------------------------------------------------------------------------------------------
# What each source reports for a scenario


def _name(value: str | None) -> str | None:
    """A name as the real connectors' field readers leave it (``connectors.http.name_text``):
    cleaned where it enters a record, ``None`` when nothing readable is left."""
    return clean(value) or None if value else None


def partner_records(
    scenario: Scenario, source: Source, *, audit_since: date | None = None
) -> Iterator[Record]:
    """Records of a partner-scoped source; audit records from ``audit_since`` on, as the
    connector's ``startDate`` asks Partner Center for."""
    if source is Source.PC_CUSTOMERS:
        for c in scenario.customers:
            if c.relationship is None:
                continue
            yield Customer(
                tenant_id=c.tenant_id.lower(),
                name=clean(c.name),
                domain=_name(c.domain),
                relationship=c.relationship,
                associated_partner_id=(
                    c.indirect_reseller.partner_id if c.indirect_reseller else None
                ),
                allow_delegated_access=c.allow_delegated_access,
            )
    elif source is Source.GRAPH_CONTRACTS:
        for c in scenario.customers:
            if c.contract_type is None:
                continue
            yield Contract(
                customer_tenant_id=c.tenant_id.lower(),
                contract_type=c.contract_type,
                display_name=_name(c.name),
                default_domain=_name(c.domain),
            )
    elif source is Source.GRAPH_GDAP:
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
    elif source is Source.INSIGHTS:
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
    elif source is Source.PC_AUDIT:
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
    else:
        raise ValueError(f"{source} is not a partner-scoped source")


def customer_records(
    scenario: Scenario, source: Source, customer: CustomerSpec, identity: str | None = None
) -> Iterator[Record]:
    """Records of a customer-scoped source, as a successful read would return them."""
    tenant = customer.tenant_id.lower()
    if source is Source.PC_SUBSCRIPTIONS:
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
    elif source is Source.PC_USAGE:
        for az in customer.azure_subscriptions:
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
    elif source is Source.GRAPH_SKUS:
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
    elif source is Source.GRAPH_DIRECTORY_SUBSCRIPTIONS:
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
    elif source is Source.GRAPH_USAGE:
        for workload in M365_WORKLOADS:
            yield ActiveUsers(
                customer_tenant_id=tenant,
                workload=workload,
                active_users=customer.usage.active_users.get(workload, 0),
                report_refresh_date=customer.usage.report_refresh_date,
                period="D30",
            )
    elif source is Source.GRAPH_IDENTITIES:
        for sp in service_principals(scenario, customer):
            yield Identity(
                customer_tenant_id=tenant,
                identity=sp.identity,
                object_id=sp.object_id,
                app_id=sp.app_id,
                display_name=_name(sp.identity),
                enabled=sp.enabled,
                credential_expires=sp.credential_expires,
            )
    elif source is Source.ARM_SUBSCRIPTIONS:
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
    elif source is Source.ARM_PAL:
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
    else:
        raise ValueError(f"{source} is not a customer-scoped source")


# ---------------------------------------------------------------------------------------------
# Faults


@dataclass
class FaultBook:
    """Counts how often each fault of a scenario has fired; thread-safe for the emulator."""

    faults: list[FaultSpec]
    _used: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def take(
        self,
        source: str,
        scope: str,
        *,
        identity: str | None = None,
        call: str = "*",
        pages: int = 1,
    ) -> FaultSpec | None:
        """The first live fault matching this call; its use is counted."""
        with self._lock:
            for index, fault in enumerate(self.faults):
                if fault.source != source:
                    continue
                if fault.scope not in ("*", scope) and fault.scope.lower() != scope.lower():
                    continue
                if fault.identity is not None and fault.identity != identity:
                    continue
                if not _call_matches(fault, call, pages):
                    continue
                if fault.times is not None and self._used[index] >= fault.times:
                    continue
                self._used[index] += 1
                return fault
        return None

    def reset(self) -> None:
        with self._lock:
            self._used.clear()


def _call_matches(fault: FaultSpec, call: str, pages: int) -> bool:
    if fault.call in ("*", call):
        return True
    page = fault.page()
    # A listing read whole (the fake) meets a page fault when it has that many pages.
    return call == "*" and page is not None and page <= pages


def fault_error(fault: FaultSpec, what: str) -> ConnectorError:
    """The error a real connector would end up with for one firing of ``fault``."""
    if fault.kind == "timeout":
        return TransientError(f"{what} timed out")
    if fault.kind == "malformed":
        return MalformedResponse(f"{what}: the answer is not valid JSON of the documented shape")
    if fault.kind == "truncated":
        return IncompleteListing(f"{what}: the listing ended before its last page")
    assert fault.status is not None
    headers = {"retry-after": str(fault.retry_after)} if fault.retry_after is not None else {}
    return error_for_status(fault.status, headers=headers, what=what)


# ---------------------------------------------------------------------------------------------
# The connectors


class FakeWorld:
    """A scenario plus its fault counters: what the fake connectors read."""

    def __init__(
        self,
        scenario: Scenario,
        retry: RetryPolicy = DEFAULT_RETRY,
        *,
        audit_lookback_days: int = 30,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.scenario = scenario
        self.retry = retry
        self.audit_lookback = timedelta(days=audit_lookback_days)
        self.clock = clock or (lambda: datetime.now(UTC))
        self.faults = FaultBook(list(scenario.faults))

    def connectors(self, identities: tuple[str, ...] = (PARTNER_APP,)) -> list[FakeConnector]:
        """One connector per source; ``arm.pal`` once per identity the agent signs in as."""
        made: list[FakeConnector] = []
        for source in Source:
            if source is Source.ARM_PAL:
                made.extend(FakeConnector(self, source, identity=i) for i in identities)
            else:
                made.append(FakeConnector(self, source))
        return made


class FakeConnector:
    """Reads one source of a :class:`FakeWorld`."""

    def __init__(self, world: FakeWorld, source: Source, identity: str | None = None) -> None:
        self.world = world
        self.source = source
        self.scope_kind = SCOPE_KINDS[source]
        self.kinds = KINDS[source]
        self.identity = identity if source is Source.ARM_PAL else None
        self.requires = REQUIRES.get(source)

    def __repr__(self) -> str:
        suffix = f"/{self.identity}" if self.identity else ""
        return f"FakeConnector({self.source}{suffix})"

    def _records(self, customer_tenant_id: str | None) -> list[Record]:
        scenario = self.world.scenario
        if customer_tenant_id is None:
            since = (self.world.clock() - self.world.audit_lookback).date()
            return list(partner_records(scenario, self.source, audit_since=since))
        customer = scenario.customer(customer_tenant_id)
        if customer is None:
            raise AuthError("the tenant is unknown to the identity platform", aadsts="AADSTS90002")
        return list(customer_records(scenario, self.source, customer, self.identity))

    def _signed_in(self, customer_tenant_id: str | None) -> None:
        """Token acquisition as the real connector does it before its first call."""
        if (
            customer_tenant_id is None
            or self.source is Source.PC_SUBSCRIPTIONS
            or self.source is Source.PC_USAGE
        ):
            scope, identity = "partner", None
        else:
            scope, identity = customer_tenant_id, self.identity or PARTNER_APP
            refusal = sign_in_refusal(
                self.world.scenario, self.world.scenario.customer(customer_tenant_id), identity
            )
            if refusal is not None:
                raise AuthError(refusal.message, aadsts=refusal.aadsts)
        if self.world.faults.take("login", scope, identity=identity, call="token"):
            raise AuthError("token request refused", aadsts="AADSTS7000215")

    async def fetch(self, customer_tenant_id: str | None) -> AsyncIterator[Record]:
        scope = customer_tenant_id.lower() if customer_tenant_id else "partner"
        what = f"{self.source} for {scope}"
        self._signed_in(customer_tenant_id)
        records = self._records(customer_tenant_id)
        pages = page_count(len(records), self.source)
        attempt = 0
        while True:
            attempt += 1
            fault = self.world.faults.take(
                self.source.value, scope, identity=self.identity, pages=pages
            )
            if fault is None:
                break
            error = fault_error(fault, what)
            if not error.retryable or not self.world.retry.allows(
                attempt, throttled=isinstance(error, ThrottledError)
            ):
                raise error
        for record in records:
            yield record
