"""A generated estate: a scenario of N customers with a realistic mix, for benchmarks and scale
tests (``partnerlink emulator --generate N --seed S``).

The same ``(customers, seed)`` always yields the same document (tenant ids are derived from the
index, every choice from one seeded :class:`random.Random`), so two runs of a benchmark read the
same world. The mix follows what a large CSP partner sees: most customers are direct resellers,
some served by an indirect reseller, a few advisor-only or GDAP-only; one to three GDAP
relationships each (some expired or terminated); Azure on a minority with PAL on most of those;
mostly small tenants, some medium and a few large ones (which sizes their Graph bucket, §3.3).

The document is built as plain JSON (no model objects), so 20,000 customers take seconds.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

GENERATED_PARTNER_TENANT = "7a11ce00-0000-4000-8000-00000000a000"
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


def _guid(prefix: str, index: int, sub: int = 0) -> str:
    """A deterministic GUID: 8 hex of prefix, the index and a sub-number in the last group."""
    return f"{prefix.ljust(8, '0')}-0000-4000-8000-{index:08x}{sub:04x}"


def _tenant(index: int) -> str:
    return _guid("c0", index)


def _users(rng: random.Random) -> int:
    """Licensed users: mostly small tenants (§3.3 S < 50), some medium, a few large."""
    draw = rng.random()
    if draw < 0.70:
        return rng.randint(3, 49)
    if draw < 0.95:
        return rng.randint(50, 500)
    return rng.randint(501, 5000)


def _customer(
    index: int, rng: random.Random, *, partner_ids: dict[str, str], resellers: list[dict[str, str]]
) -> dict[str, Any]:
    tenant = _tenant(index)
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
    subscriptions: list[dict[str, Any]] = []
    licences: list[dict[str, Any]] = []
    for n in range(rng.choices((1, 2, 3, 4), weights=(45, 30, 15, 10))[0]):
        offer_id, offer_name, sku, part = _OFFERS[(index + n) % len(_OFFERS)]
        quantity = max(1, int(users * rng.uniform(0.9, 1.3))) if n == 0 else rng.randint(1, 40)
        sub: dict[str, Any] = {
            "id": _guid("e0", index, n),
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
                "subscription_id": _guid("d0", index, n),
                "enabled_units": quantity,
                "consumed_units": min(quantity, users) if n == 0 else rng.randint(0, quantity),
            }
        )
    customer["csp_subscriptions"] = subscriptions
    customer["licences"] = licences

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
                        "group_id": _guid("6a", index, n * 4 + k),
                        "roles": roles[: k + 1],
                    }
                    for k in range(rng.choice((1, 1, 2)))
                ],
            }
        )
    customer["gdap"] = gdap

    azure: list[dict[str, Any]] = []
    identities: list[dict[str, Any]] = []
    attribution: list[dict[str, Any]] = []
    if rng.random() < 0.4:
        for n in range(rng.choices((1, 2, 3), weights=(60, 30, 10))[0]):
            acr = round(rng.uniform(50, 25_000), 2)
            sub_id = _guid("50", index, n)
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
                "object_id": _guid("0b", index, 1),
                "roles": [{"scope": a["subscription_id"], "role": "Contributor"} for a in azure],
                "pal": partner_ids["hq"] if linked else None,
            }
        )
        if rng.random() < 0.35:
            identities.append(
                {
                    "identity": GENERATED_CARRIER,
                    "object_id": _guid("0b", index, 2),
                    "roles": [{"scope": azure[0]["subscription_id"], "role": "Reader"}],
                    "pal": partner_ids["hq"],
                }
            )
    customer["azure_subscriptions"] = azure
    customer["identities"] = identities

    active = {w: max(0, int(users * rng.uniform(0.4, 1.0))) for w in _WORKLOADS}
    customer["usage"] = {
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
    customer["attribution"] = attribution
    return customer


def generate_scenario(
    customers: int,
    seed: int = 0,
    *,
    time_scale: float = 1.0,
    latency_ms: float = 0.0,
    name: str | None = None,
) -> dict[str, Any]:
    """A scenario document (JSON-ready) with ``customers`` customers, reproducible by ``seed``.

    ``time_scale`` and ``latency_ms`` go to the document's ``emulator`` section: the emulator
    divides every throttling window by the first and sleeps the second before each answer.
    """
    if customers < 0:
        raise ValueError("customers must be 0 or more")
    rng = random.Random(seed)  # noqa: S311 - reproducible test data, not a secret
    partner_ids = {"hq": "4100002", "training": "4100003"}
    resellers = [
        {"partner_id": f"53{n:05d}", "name": f"Reseller {n}", "tenant_id": _guid("9e", n)}
        for n in range(1, 11)
    ]
    made = [
        _customer(i, rng, partner_ids=partner_ids, resellers=resellers)
        for i in range(1, customers + 1)
    ]
    audit: list[dict[str, Any]] = []
    operations = (
        ("add_customer", "customer"),
        ("create_mpn_association", "mpn_association"),
        ("update_subscription", "subscription"),
        ("dap_admin_relationship_terminated", "partner_customer_dap"),
    )
    for n in range(max(1, customers // 2)):
        operation, resource = rng.choice(operations)
        audit.append(
            {
                "id": f"ae-{n + 1:07d}",
                "operation_type": operation,
                "resource_type": resource,
                "customer_tenant_id": _tenant(rng.randint(1, customers)) if customers else None,
                "date": f"-{rng.randint(0, 29)}d",
            }
        )
    return {
        "version": 1,
        "name": name or f"generated-{customers}-seed{seed}",
        "partner": {
            "tenant_id": GENERATED_PARTNER_TENANT,
            "name": f"Generated Partner ({customers} customers)",
            "global_partner_id": "4100001",
            "locations": [
                {
                    "partner_id": partner_ids["hq"],
                    "name": "Headquarters",
                    "link_kinds": ["pal", "cpor", "dpor", "csp", "gdap"],
                },
                {
                    "partner_id": partner_ids["training"],
                    "name": "Training centre",
                    "link_kinds": ["cpor"],
                },
            ],
            "app": {
                "client_id": "a9900000-0000-4000-8000-0000000000a1",
                "client_secret": "generated-secret-not-for-production",
                "credential_expires": "+540d",
            },
            "carriers": [
                {
                    "name": GENERATED_CARRIER,
                    "client_id": "a9900000-0000-4000-8000-0000000000c1",
                    "client_secret": "generated-carrier-secret-0001",
                    "credential_expires": "+200d",
                }
            ],
        },
        "customers": made,
        "audit_events": audit,
        "emulator": {"time_scale": time_scale, "latency_ms": latency_ms},
    }


def carrier_tenants(document: dict[str, Any], carrier: str = GENERATED_CARRIER) -> list[str]:
    """Customer tenants in which ``carrier`` exists: what its ``tenants`` config would list."""
    return [
        c["tenant_id"]
        for c in document["customers"]
        if any(i["identity"] == carrier for i in c.get("identities", []))
    ]


def write_scenario(
    path: str | Path,
    customers: int,
    seed: int = 0,
    *,
    time_scale: float = 1.0,
    latency_ms: float = 0.0,
) -> Path:
    """Generate a scenario and write it as JSON (compact: 20,000 customers are ~50 MB)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    document = generate_scenario(customers, seed, time_scale=time_scale, latency_ms=latency_ms)
    target.write_text(json.dumps(document, separators=(",", ":")), encoding="utf-8")
    return target
