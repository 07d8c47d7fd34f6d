"""The readiness of the whole estate: the partner tenant first, then every customer at once (as
many as ``[sync] concurrency``), through the live connectors of a sync and its shared requester,
so the checks wait on Microsoft's throttling exactly as a sync does.

Customers come from Partner Center (else from the store), plus those of the managed-customers
file. Azure subscriptions the app cannot list are known from the store (Partner Center usage,
insight reports, earlier reads): a subscription nobody ever saw cannot be asked about.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import TYPE_CHECKING

import structlog

from agent.causes import Cause, CauseKind
from agent.readiness.coverage import ReadCoverage, seats
from agent.readiness.customer import probe_customer
from agent.readiness.model import Check, CustomerReadiness, Readiness
from agent.readiness.partner import probe_partner
from agent.readiness.readers import Readers
from connectors.base import PARTNER_APP
from connectors.http.connector import LiveConnector
from connectors.records.attribution import Attribution
from connectors.records.azure import AzureSubscription, AzureUsage
from connectors.records.customers import CspSubscription

if TYPE_CHECKING:
    from agent.app import Agent


log = structlog.get_logger("partnerlink.readiness")


class ReadinessUnavailable(Exception):
    """Nothing to sign in to: the fake sources."""


def check_readiness(agent: Agent) -> Readiness:
    """Probe every reader of the partner tenant and of every customer, for real."""
    if agent.settings.sources.mode == "fake":
        raise ReadinessUnavailable(
            'sources.mode: readiness signs in to Microsoft (or the emulator); "fake" has '
            "nothing to sign in to"
        )
    return asyncio.run(_check(agent))


async def _check(agent: Agent) -> Readiness:
    settings = agent.settings
    wiring = agent.wiring()
    async with wiring.connectors(agent.metrics) as made:
        requester = next(c.requester for c in made if isinstance(c, LiveConnector))
        readers = Readers(
            requester=requester,
            endpoints=wiring.endpoints,
            app_id=wiring.identities[PARTNER_APP],
            connectors={(c.source.value, c.identity): c for c in agent.wanted(made)},
            applies=agent.applies,
        )
        partner = await probe_partner(
            readers,
            settings.partner.tenant_id.lower(),
            app_user=settings.sources.app_user,
            carriers=[c.name for c in settings.credentials.carriers],
        )
        readers.gdap, readers.carriers_down = partner.gdap, partner.carriers_down
        _remember(agent, readers)
        customers = _customers(agent, partner.customers)
        limit = asyncio.Semaphore(settings.sync.concurrency)

        async def one(tenant: str, name: str) -> CustomerReadiness:
            async with limit:
                try:
                    return await probe_customer(readers, tenant, name)
                except Exception as exc:  # one customer's surprise is not the estate's
                    log.error("readiness_customer_failed", error_type=type(exc).__name__)
                    cause = Cause(CauseKind.FAILED, "the check itself failed", type(exc).__name__)
                    return CustomerReadiness(
                        tenant, name, [Check.failed("check", cause, who="", tenant="")]
                    )

        found = list(await asyncio.gather(*(one(t, n) for t, n in customers)))
    coverage = ReadCoverage()
    for customer in found:
        coverage.add(
            readable=customer.readable,
            subscriptions=len(customer.subscriptions),
            readable_subscriptions=len(customer.readable_subscriptions),
            seats=customer.seats,
        )
    return Readiness(
        partner=partner.checks,
        customers=found,
        coverage=coverage,
        floor=settings.readiness.floor,
        listed=partner.customers is not None or bool(customers),
    )


def _remember(agent: Agent, readers: Readers) -> None:
    """What the store knows that no probe can see: subscriptions the app has no role on, and
    the seats of a customer whose Partner Center read fails."""
    kinds = [AzureSubscription.KIND, AzureUsage.KIND, Attribution.KIND, CspSubscription.KIND]
    subscriptions: dict[str, set[str]] = defaultdict(set)
    sold: dict[str, list[CspSubscription]] = defaultdict(list)
    for stored in agent.store.current(kinds=kinds):
        record = stored.record
        tenant = (getattr(record, "customer_tenant_id", None) or "").lower()
        if isinstance(record, AzureSubscription):
            subscriptions[tenant].add(record.subscription_id.lower())
        elif isinstance(record, AzureUsage):
            subscriptions[tenant].add(record.resource_id.lower())
        elif isinstance(record, Attribution) and record.workload.startswith("azure:"):
            subscriptions[tenant].add(record.workload.split(":", 1)[1].lower())
        elif isinstance(record, CspSubscription):
            sold[tenant].append(record)
    readers.known_subscriptions = {t: frozenset(s) for t, s in subscriptions.items()}
    readers.stored_seats = {t: seats(subs) for t, subs in sold.items()}


def _customers(agent: Agent, listed: list[tuple[str, str]] | None) -> list[tuple[str, str]]:
    """(tenant, name) of every customer to check, sorted by name."""
    names = dict(agent.store.customer_names())
    tenants = (
        dict(listed) if listed is not None else dict.fromkeys(agent.store.known_customers(), "")
    )
    for tenant in agent.expectations():
        tenants.setdefault(tenant.lower(), "")
    return sorted(
        ((t, tenants[t] or names.get(t) or t) for t in tenants), key=lambda p: (p[1].lower(), p[0])
    )
