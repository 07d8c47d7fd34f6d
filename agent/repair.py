"""PAL repair, opt-in and off by default: for every identity the agent signs in as whose
Partner Admin Link is missing or names the wrong partner ID in a customer tenant, plan (and, when
asked, send) the PUT or PATCH that sets the right location ID. The next sync verifies it.

Only the identity itself can set its own link (microsoft-apis.md §5.1), so each write is made
with that identity's token in that tenant; nothing else is ever written.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import structlog

from agent.app import Agent
from agent.config import ConfigError
from connectors.arm import PalWriter
from connectors.errors import ConnectorError
from connectors.records.pal import PalLink

log = structlog.get_logger("partnerlink.repair")


@dataclass(frozen=True, slots=True)
class PalFix:
    tenant: str
    customer: str
    identity: str
    current: str | None
    target: str

    @property
    def method(self) -> str:
        return "PUT" if self.current is None else "PATCH"

    def describe(self) -> str:
        now = self.current or "no link"
        return (
            f"{self.method} /providers/Microsoft.ManagementPartner/partners/{self.target}"
            f"?api-version=2018-02-01 as {self.identity} in {self.customer} "
            f"({self.tenant}): {now} → {self.target}"
        )


def target_partner_id(agent: Agent) -> str:
    """The location ID PAL should carry: the configured one, or the only location meant for
    PAL."""
    s = agent.settings
    if s.repair.pal_partner_id:
        return s.repair.pal_partner_id
    meant = sorted(loc.partner_id for loc in s.partner.locations if "pal" in loc.link_kinds)
    if len(meant) != 1:
        raise ConfigError(
            "repair.pal_partner_id: set which location ID PAL links should carry "
            f"({len(meant)} locations are meant for PAL)"
        )
    return meant[0]


def plan(agent: Agent) -> list[PalFix]:
    """Fixes for the newest PAL readings in the store (what the last sync saw)."""
    target = target_partner_id(agent)
    names = {
        o.record.customer_tenant_id: getattr(o.record, "name", None)
        for o in agent.store.current(kinds=["customer"])
    }
    ours = set(agent.identities())
    fixes = []
    for obs in agent.store.current(kinds=[PalLink.KIND]):
        pal = obs.record
        assert isinstance(pal, PalLink)
        if pal.identity not in ours or pal.partner_id == target:
            continue
        fixes.append(
            PalFix(
                tenant=pal.customer_tenant_id,
                identity=pal.identity,
                customer=names.get(pal.customer_tenant_id) or pal.customer_tenant_id,
                current=pal.partner_id,
                target=target,
            )
        )
    fixes.sort(key=lambda f: (f.customer, f.identity))
    return fixes


async def _apply(agent: Agent, fixes: list[PalFix]) -> list[tuple[PalFix, str]]:
    wiring = agent.wiring()
    results: list[tuple[PalFix, str]] = []
    async with wiring.client(30.0) as client:
        writer = PalWriter(wiring.requester(client), wiring.endpoints)
        for fix in fixes:
            try:
                link = await writer.pal_link(fix.identity, fix.tenant, fix.target)
                outcome = f"now {link.partner_id}"
            except ConnectorError as exc:
                outcome = f"failed: {exc}"
            log.info("pal_repair", tenant=fix.tenant, identity=fix.identity, outcome=outcome)
            results.append((fix, outcome))
    return results


def apply(agent: Agent, fixes: list[PalFix]) -> list[tuple[PalFix, str]]:
    if not agent.settings.repair.pal_enabled:
        raise ConfigError(
            "repair.pal_enabled: PAL repair is off; set it to true to let the "
            "agent write Partner Admin Links"
        )
    if agent.settings.sources.mode == "fake":
        raise ConfigError(
            "sources.mode: PAL repair writes through the real connectors; use microsoft or emulator"
        )
    return asyncio.run(_apply(agent, fixes))
