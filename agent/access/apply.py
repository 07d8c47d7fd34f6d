"""Sending the writes of an access plan, as the partner administrator (app+user), customer by
customer in their order (consent, Graph app roles, Azure roles). Every write is logged with its
outcome; a write that exists already is reported so, never made twice; a failure stops only the
rest of that customer's writes. The next sync verifies what was written.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Mapping

import structlog

from agent.access.plan import AccessPlan
from agent.access.writes import AZURE_ROLE, CONSENT, GRAPH_ROLES, AccessWrite
from agent.app import Agent
from agent.config import ConfigError
from connectors.consent import ConsentWriter
from connectors.errors import ConnectorError
from connectors.http.fields import guid
from connectors.http.redact import escape
from connectors.role_assignments import RoleAssignmentWriter

log = structlog.get_logger("partnerlink.access")

CUSTOMERS_AT_ONCE = 4
"""Customers written to at once (each one's writes go in order)."""


class _Writers:
    def __init__(self, consent: ConsentWriter, roles: RoleAssignmentWriter) -> None:
        self.consent = consent
        self.roles = roles

    async def send(self, write: AccessWrite) -> str:
        if write.kind == CONSENT:
            return await self.consent.consent(write.tenant, write.app_id)
        if write.kind == GRAPH_ROLES:
            done = await self.consent.grant_graph_roles(write.tenant, write.app_id, write.roles)
            return "; ".join(f"{role}: {outcome}" for role, outcome in done.items())
        assert write.kind == AZURE_ROLE
        assert write.subscription is not None
        found = await self.consent.service_principal(write.tenant, write.app_id)
        principal = guid(found.get("id")) if found else None
        if principal is None:
            return "failed: the app has no service principal there (consent first)"
        return await self.roles.assign(write.tenant, write.subscription, principal)


async def _customer(
    writers: _Writers, writes: list[AccessWrite], gate: asyncio.Semaphore
) -> list[tuple[AccessWrite, str]]:
    results: list[tuple[AccessWrite, str]] = []
    stopped: str | None = None
    async with gate:
        for write in writes:
            if write.blocked is not None:
                outcome = f"skipped: {write.blocked}"
            elif stopped is not None:
                outcome = f"skipped: {stopped}"
            else:
                try:
                    outcome = await writers.send(write)
                except ConnectorError as exc:
                    outcome = f"failed: {exc}"
                if outcome.startswith("failed"):
                    stopped = f"an earlier write for {write.customer} failed"
            log.info(
                "access_write",
                tenant=write.tenant,
                kind=write.kind,
                subscription=write.subscription,
                roles=",".join(write.roles) or None,
                outcome=escape(outcome),
            )
            results.append((write, outcome))
    return results


async def _apply(agent: Agent, plan: AccessPlan) -> list[tuple[AccessWrite, str]]:
    wiring = agent.wiring()
    by_tenant: Mapping[str, list[AccessWrite]] = defaultdict(list)
    for write in plan.writes:
        by_tenant[write.tenant].append(write)
    gate = asyncio.Semaphore(CUSTOMERS_AT_ONCE)
    async with wiring.client(30.0) as client:
        requester = wiring.requester(client)
        writers = _Writers(
            ConsentWriter(
                requester, wiring.endpoints, partner_tenant_id=agent.settings.partner.tenant_id
            ),
            RoleAssignmentWriter(requester, wiring.endpoints),
        )
        done = await asyncio.gather(
            *(_customer(writers, writes, gate) for writes in by_tenant.values())
        )
    results = [r for rs in done for r in rs]
    for tenant in {
        w.tenant for w, outcome in results if not outcome.startswith(("failed", "skipped"))
    }:
        # What was granted counts from the next sign-in: the app's cached refusals and
        # role-less tokens there are dropped.
        wiring.tokens.forget(tenant)
    return sorted(results, key=lambda r: r[0].sort_key)


def apply(agent: Agent, plan: AccessPlan) -> list[tuple[AccessWrite, str]]:
    """Send the plan's writes; refused unless ``[repair] access_enabled``."""
    if not agent.settings.repair.access_enabled:
        raise ConfigError(
            "repair.access_enabled: access repair is off; set it to true to let the agent "
            "consent its app and assign roles in customer tenants"
        )
    if agent.settings.sources.mode == "fake":
        raise ConfigError(
            "sources.mode: access repair writes through the real connectors; use microsoft or "
            "emulator"
        )
    return asyncio.run(_apply(agent, plan))
