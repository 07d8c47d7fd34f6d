"""One generated customer of the scale estate (``generate``): its name, CSP subscriptions and
licences, GDAP relationships, Azure with PAL, usage and attribution.

Every choice comes from the caller's seeded :class:`random.Random`, drawn in a fixed order, so
the same seed always yields the same customer.
"""

from __future__ import annotations

import random
from typing import Any

GENERATED_CARRIER = "pal-carrier-ops"

_OFFERS: tuple[tuple[str, str, str, str], ...] = (
    # (offer id, offer name, sku id, sku part number)
    (
        "CFQ7TTC0LCHC:0002",
        "Microsoft 365 Business Premium",
        "f245ecc8-75af-4f8e-b61f-27d8114de5f3",
        "O365_BUSINESS_PREMIUM",
    ),
    (
        "CFQ7TTC0LDPB:0001",
        "Microsoft 365 Business Standard",
        "cbdc14ab-d96c-4c30-b9f4-6ada7cdc1d46",
        "O365_BUSINESS_PREMIUM_STD",
    ),
    ("CFQ7TTC0LF8R:0001", "Microsoft 365 E3", "05e9a617-0261-4cee-bb44-138d3ef5d965", "SPE_E3"),
    ("CFQ7TTC0LFLZ:0002", "Microsoft 365 E5", "06ebc4ee-1bb5-47dd-8120-11324bc54e06", "SPE_E5"),
    (
        "CFQ7TTC0LH18:0001",
        "Microsoft Teams Essentials",
        "3ab6abff-666f-4424-bfb7-f0bc274ec7bc",
        "TEAMS_ESSENTIALS_AAD",
    ),
    (
        "CFQ7TTC0LHSV:0001",
        "Dynamics 365 Business Central Essentials",
        "2880026b-2b0c-4251-8656-5d41ff11e3aa",
        "DYN365_BUSCENTRAL_ESSENTIAL",
    ),
)
_GDAP_ROLES = (
    "729827e3-9c14-49f7-bb1b-9608f156bbb8",  # Helpdesk Administrator
    "88d8e3e3-8f55-4a1e-953a-9b9898b8876b",  # Directory Readers
    "fe930be7-5e62-47db-91af-98c3a49a38b1",  # User Administrator
    "f2ef992c-3afb-46b9-b7cf-a126ee74c451",  # Global Reader
)
_GLOBAL_ADMIN = "62e90394-69f5-4237-9190-012177145e10"
_WORDS = (
    "Alpine",
    "Birch",
    "Cobalt",
    "Dune",
    "Ember",
    "Fjord",
    "Granite",
    "Harbor",
    "Ivy",
    "Juniper",
    "Kestrel",
    "Lumen",
    "Maple",
    "Nimbus",
    "Onyx",
    "Pine",
    "Quartz",
    "River",
    "Summit",
    "Tidal",
    "Umber",
    "Vale",
    "Willow",
    "Yarrow",
    "Zephyr",
)
_TRADES = (
    "Dairy",
    "Logistics",
    "Legal",
    "Robotics",
    "Health",
    "Analytics",
    "Works",
    "Retail",
    "Design",
    "Foods",
    "Energy",
    "Labs",
    "Transit",
    "Finance",
    "Media",
    "Build",
)
_WORKLOADS = ("exchange", "teams", "sharepoint", "onedrive", "office365")


def generated_guid(prefix: str, index: int, sub: int = 0) -> str:
    """A deterministic GUID: 8 hex of prefix, the index and a sub-number in the last group."""
    return f"{prefix.ljust(8, '0')}-0000-4000-8000-{index:08x}{sub:04x}"


def generated_tenant(index: int) -> str:
    return generated_guid("c0", index)


def _users(rng: random.Random) -> int:
    """Licensed users: mostly small tenants (§3.3 S < 50), some medium, a few large."""
    draw = rng.random()
    if draw < 0.70:
        return rng.randint(3, 49)
    if draw < 0.95:
        return rng.randint(50, 500)
    return rng.randint(501, 5000)


def generated_customer(
    index: int, rng: random.Random, *, partner_ids: dict[str, str], resellers: list[dict[str, str]]
) -> dict[str, Any]:
    """One customer; its parts are drawn in a fixed order, so a seed always yields the same."""
    tenant = generated_tenant(index)
    word, trade = rng.choice(_WORDS), rng.choice(_TRADES)
    slug = f"{word}{trade}{index}".lower()
    draw = rng.random()
    relationship: str | None = (
        "reseller" if draw < 0.90 else "advisor" if draw < 0.96 else "none" if draw < 0.98 else None
    )
    customer: dict[str, Any] = {
        "tenant_id": tenant,
        "name": f"{word} {trade} {index:05d}",
        "domain": f"{slug}.example",
        "relationship": relationship,
    }
    if relationship is None:
        customer["contract_type"] = None
    if rng.random() < 0.3:
        customer["allow_delegated_access"] = True
    if rng.random() < 0.01:
        customer["consented"] = False  # consent never granted: its tenant reads fail (auth)
    reseller = rng.choice(resellers) if relationship == "reseller" and rng.random() < 0.2 else None
    if reseller is not None:
        customer["indirect_reseller"] = reseller
    users = _users(rng)
    subscriptions, licences = _subscriptions(index, rng, users, relationship, reseller)
    customer["csp_subscriptions"] = subscriptions
    customer["licences"] = licences
    customer["gdap"] = _gdap(index, tenant, rng)
    azure, identities, attribution = _azure(index, slug, rng, partner_ids)
    customer["azure_subscriptions"] = azure
    customer["identities"] = identities
    customer["usage"], workloads = _usage(rng, users, licences, partner_ids)
    customer["attribution"] = attribution + workloads
    return customer


def _subscriptions(
    index: int,
    rng: random.Random,
    users: int,
    relationship: str | None,
    reseller: dict[str, str] | None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The CSP subscriptions (none without a relationship) and the licences they give."""
    subscriptions: list[dict[str, Any]] = []
    licences: list[dict[str, Any]] = []
    for n in range(rng.choices((1, 2, 3, 4), weights=(45, 30, 15, 10))[0]):
        offer_id, offer_name, sku, part = _OFFERS[(index + n) % len(_OFFERS)]
        quantity = max(1, int(users * rng.uniform(0.9, 1.3))) if n == 0 else rng.randint(1, 40)
        sub: dict[str, Any] = {
            "id": generated_guid("e0", index, n),
            "offer_id": offer_id,
            "offer_name": offer_name,
            "quantity": quantity,
            "created": f"-{rng.randint(30, 1500)}d",
            "status": "active" if rng.random() < 0.95 else "suspended",
        }
        if reseller is not None:
            sub["partner_id"] = reseller["partner_id"]
        if relationship is not None:
            subscriptions.append(sub)
        licences.append(
            {
                "sku_id": sku,
                "sku_part_number": part,
                "subscription_id": generated_guid("d0", index, n),
                "enabled_units": quantity,
                "consumed_units": min(quantity, users) if n == 0 else rng.randint(0, quantity),
            }
        )
    return subscriptions, licences


def _gdap(index: int, tenant: str, rng: random.Random) -> list[dict[str, Any]]:
    """Zero to three GDAP relationships: the first active, the others sometimes ended."""
    gdap: list[dict[str, Any]] = []
    for n in range(rng.choices((0, 1, 2, 3), weights=(3, 57, 30, 10))[0]):
        status = "active" if n == 0 else rng.choice(("active", "expired", "terminated"))
        roles = rng.sample(_GDAP_ROLES, rng.randint(1, 3))
        if rng.random() < 0.05:
            roles.append(_GLOBAL_ADMIN)
        relationship_id = f"{tenant}-rel{n + 1}"
        gdap.append(
            {
                "id": relationship_id,
                "display_name": f"Managed services {n + 1}",
                "status": status,
                "roles": roles,
                "auto_extend_duration": "P180D" if rng.random() < 0.7 else "PT0S",
                "activated": f"-{rng.randint(30, 700)}d",
                "ends": f"+{rng.randint(5, 700)}d"
                if status == "active"
                else f"-{rng.randint(1, 90)}d",
                "access_assignments": [
                    {
                        "id": f"aa{k + 1}",
                        "group_id": generated_guid("6a", index, n * 4 + k),
                        "roles": roles[: k + 1],
                    }
                    for k in range(rng.choice((1, 1, 2)))
                ],
            }
        )
    return gdap


def _azure(
    index: int, slug: str, rng: random.Random, partner_ids: dict[str, str]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """Azure on a minority of customers: (subscriptions, identities with their PAL, PAL rows)."""
    azure: list[dict[str, Any]] = []
    identities: list[dict[str, Any]] = []
    attribution: list[dict[str, Any]] = []
    if rng.random() >= 0.4:
        return azure, identities, attribution
    for n in range(rng.choices((1, 2, 3), weights=(60, 30, 10))[0]):
        acr = round(rng.uniform(50, 25_000), 2)
        sub_id = generated_guid("50", index, n)
        azure.append(
            {
                "subscription_id": sub_id,
                "display_name": f"{slug[:12]}-{n}",
                "acr_usd": acr,
                "partner_on_record": partner_ids["hq"] if rng.random() < 0.5 else None,
            }
        )
        if rng.random() < 0.7:
            attribution.append(
                {
                    "workload": f"azure:{sub_id}",
                    "type": "PAL",
                    "partner_id": partner_ids["hq"],
                    "acr_usd": acr,
                }
            )
    linked = rng.random() < 0.7
    identities.append(
        {
            "identity": "partner-app",
            "object_id": generated_guid("0b", index, 1),
            "roles": [{"scope": a["subscription_id"], "role": "Contributor"} for a in azure],
            "pal": partner_ids["hq"] if linked else None,
        }
    )
    if rng.random() < 0.35:
        identities.append(
            {
                "identity": GENERATED_CARRIER,
                "object_id": generated_guid("0b", index, 2),
                "roles": [{"scope": azure[0]["subscription_id"], "role": "Reader"}],
                "pal": partner_ids["hq"],
            }
        )
    return azure, identities, attribution


def _usage(
    rng: random.Random, users: int, licences: list[dict[str, Any]], partner_ids: dict[str, str]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Active users per workload, and the Microsoft 365 and business-apps attribution rows."""
    active = {w: max(0, int(users * rng.uniform(0.4, 1.0))) for w in _WORKLOADS}
    usage = {
        "active_users": active,
        "licence_usage": [
            {
                "product": lic["sku_part_number"],
                "workload": "Exchange",
                "active": min(lic["consumed_units"], active["exchange"]),
                "qualified": lic["enabled_units"],
            }
            for lic in licences[:2]
        ],
    }
    attribution: list[dict[str, Any]] = []
    if rng.random() < 0.6:
        kind = rng.choices(("CPOR", "DPOR", "CSP"), weights=(50, 30, 20))[0]
        attribution.append(
            {
                "workload": "m365",
                "type": kind,
                "partner_id": partner_ids["hq"] if rng.random() < 0.9 else partner_ids["training"],
                "monthly_active_users": active["teams"],
                "seats": licences[0]["enabled_units"],
            }
        )
    if rng.random() < 0.1:
        attribution.append(
            {
                "workload": "business_apps",
                "type": "DPOR",
                "partner_id": partner_ids["hq"],
                "seats": rng.randint(1, 60),
            }
        )
    return usage, attribution
