"""``partnerlink check --online``: sign in to every configured source, and compare the
permissions the app was granted with the least-privilege set each source needs (guarantee
credentials).

Graph permissions are read from the ``roles`` claim of the app's own token; Partner Center and
ARM grant access by relationship and role assignment, so for them a real read is the test.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import httpx
from rich.console import Console
from rich.table import Table
from rich.text import Text

from agent.app import Agent
from agent.auth import MsalTokenProvider, decoded_roles
from agent.escape import for_terminal
from connectors.base import PARTNER_APP
from connectors.endpoints import CloudEndpoints
from connectors.errors import ConnectorError
from connectors.records.scope import ScopeKind
from connectors.sources import graph_roles

GRAPH_NEEDS: dict[str, tuple[str, ...]] = graph_roles(ScopeKind.PARTNER)
"""Least-privilege Graph application roles per source, in the partner tenant."""

CUSTOMER_GRAPH_NEEDS: dict[str, tuple[str, ...]] = graph_roles(ScopeKind.CUSTOMER)
"""Granted by consent in each customer tenant (Partner Center application consents)."""

WRITE = re.compile(r"\.(ReadWrite|Write|Manage|FullControl)", re.IGNORECASE)
EXTRA_BROAD = frozenset({"Directory.Read.All"})
"""Roles a read-only agent may hold; anything that can write is more than it needs."""


@dataclass
class Probe:
    source: str
    reachable: bool
    detail: str
    granted: tuple[str, ...] = ()
    missing: list[str] = field(default_factory=list)
    excess: list[str] = field(default_factory=list)
    advice: str = ""


class _Reader:
    """A signed-in GET whose status alone counts: ``(ok, detail, token)``."""

    def __init__(self, client: httpx.AsyncClient, tokens: MsalTokenProvider) -> None:
        self.client = client
        self.tokens = tokens

    async def get(
        self, url: str, resource: str, tenant: str, identity: str | None = None
    ) -> tuple[bool, str, str | None]:
        try:
            token = await self.tokens.token(tenant, resource, identity=identity)
        except ConnectorError as exc:
            return False, f"sign-in refused: {exc}", None
        try:
            # Only the status matters: the body is never read, whatever its size.
            async with self.client.stream(
                "GET", url, headers={"Authorization": f"Bearer {token}"}
            ) as answer:
                status = answer.status_code
        except httpx.HTTPError as exc:
            return False, f"unreachable: {type(exc).__name__}", token
        ok = status < 400
        return ok, f"HTTP {status}", token


async def _probe(agent: Agent) -> list[Probe]:
    wiring = agent.wiring()
    endpoints = wiring.endpoints
    partner = agent.settings.partner.tenant_id
    async with wiring.client(20.0) as client:
        read = _Reader(client, wiring.tokens)
        probes = [
            await _partner_center(read, endpoints, partner),
            await _graph(read, endpoints, partner),
            await _arm(read, endpoints, partner),
        ]
        if agent.settings.sources.app_user:
            probes.append(await _app_user(wiring.tokens, endpoints, partner))
        for carrier in agent.settings.credentials.carriers:
            probes.append(await _carrier(read, endpoints, carrier.name, carrier.tenants))
    return probes


async def _partner_center(read: _Reader, endpoints: CloudEndpoints, partner: str) -> Probe:
    ok, detail, _ = await read.get(
        f"{endpoints.partner_center}/v1/customers?size=1",
        endpoints.partner_center_resource,
        partner,
    )
    return Probe(
        "partner_center",
        ok,
        detail,
        advice=""
        if ok
        else "Add the app in Partner Center (Account settings > App management) "
        "and grant it API access.",
    )


async def _graph(read: _Reader, endpoints: CloudEndpoints, partner: str) -> Probe:
    """Graph in the partner tenant: reachable, and the roles its token carries against the
    least-privilege set every partner-scoped source needs."""
    ok, detail, token = await read.get(
        f"{endpoints.graph}/v1.0/contracts?$top=1", endpoints.graph_resource, partner
    )
    granted = decoded_roles(token) if token else ()
    needed = sorted({r for roles in GRAPH_NEEDS.values() for r in roles})
    missing = [r for r in needed if r not in granted]
    excess = sorted(r for r in granted if WRITE.search(r))
    return Probe(
        "graph (partner tenant)",
        ok,
        detail,
        granted,
        missing,
        excess,
        advice=(
            "Grant the application permissions " + ", ".join(missing) + " and give admin consent."
            if missing
            else ""
        ),
    )


async def _arm(read: _Reader, endpoints: CloudEndpoints, partner: str) -> Probe:
    ok, detail, _ = await read.get(
        f"{endpoints.arm}/subscriptions?api-version=2022-12-01", endpoints.arm_resource, partner
    )
    return Probe("arm (partner tenant)", ok, detail)


async def _app_user(tokens: MsalTokenProvider, endpoints: CloudEndpoints, partner: str) -> Probe:
    try:
        await tokens.token(partner, endpoints.partner_center_resource, identity="app+user")
    except ConnectorError as exc:
        return Probe(
            "app+user refresh token", False, str(exc), advice="Run `partnerlink auth login`."
        )
    return Probe("app+user refresh token", True, "redeemed")


async def _carrier(
    read: _Reader, endpoints: CloudEndpoints, name: str, tenants: Sequence[str]
) -> Probe:
    """A PAL carrier signs in to the first tenant it names (``*`` alone: at the next sync)."""
    tenant = next((t for t in tenants if t != "*"), None)
    if tenant is None:
        return Probe(f"carrier {name}", True, "covers every tenant: checked at the next sync")
    ok, detail, _ = await read.get(
        f"{endpoints.arm}/providers/Microsoft.ManagementPartner/partners?api-version=2018-02-01",
        endpoints.arm_resource,
        tenant,
        name,
    )
    reachable = ok or detail == "HTTP 404"  # 404 = signed in, not linked
    return Probe(f"carrier {name} in {tenant}", reachable, detail)


def online_check(agent: Agent, console: Console, *, customers: Sequence[str] = ()) -> bool:
    """Print one line per source; ``False`` when any source is unreachable or short of a
    permission it needs."""
    del customers
    probes = asyncio.run(_probe(agent))
    table = Table(title="online check")
    for column in ("source", "reachable", "detail", "missing", "more than needed", "what to do"):
        table.add_column(column, overflow="fold")
    for p in probes:
        table.add_row(
            for_terminal(p.source),
            "yes" if p.reachable else "[red]no[/]",
            for_terminal(p.detail),  # an error Microsoft wrote: shown, never parsed as markup
            for_terminal(", ".join(p.missing)),
            for_terminal(", ".join(p.excess)),
            for_terminal(p.advice),
        )
    console.print(table)
    for p in probes:
        if p.excess:
            console.print(
                Text.assemble(
                    ("warning:", "yellow"),
                    for_terminal(
                        f" {p.source} holds {', '.join(p.excess)}: the agent only reads; "
                        "remove write permissions (least privilege)."
                    ),
                )
            )
    ok = all(p.reachable and not p.missing for p in probes)
    console.print(
        "all sources reachable with the permissions they need"
        if ok
        else "[red]some sources cannot be read: see above[/]"
    )
    return ok


__all__ = ["CUSTOMER_GRAPH_NEEDS", "EXTRA_BROAD", "GRAPH_NEEDS", "PARTNER_APP", "online_check"]
