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

from standin.scenario.generated_customers import (
    GENERATED_CARRIER,
    generated_customer,
    generated_guid,
    generated_tenant,
)

GENERATED_PARTNER_TENANT = "7a11ce00-0000-4000-8000-00000000a000"


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
        {"partner_id": f"53{n:05d}", "name": f"Reseller {n}", "tenant_id": generated_guid("9e", n)}
        for n in range(1, 11)
    ]
    made = [
        generated_customer(i, rng, partner_ids=partner_ids, resellers=resellers)
        for i in range(1, customers + 1)
    ]
    return {
        "version": 1,
        "name": name or f"generated-{customers}-seed{seed}",
        "partner": _partner(customers, partner_ids),
        "customers": made,
        "audit_events": _audit_events(rng, customers),
        "emulator": {"time_scale": time_scale, "latency_ms": latency_ms},
    }


def _audit_events(rng: random.Random, customers: int) -> list[dict[str, Any]]:
    """Half as many Partner Center audit events as customers (at least one), in the last month."""
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
                "customer_tenant_id": generated_tenant(rng.randint(1, customers))
                if customers
                else None,
                "date": f"-{rng.randint(0, 29)}d",
            }
        )
    return audit


def _partner(customers: int, partner_ids: dict[str, str]) -> dict[str, Any]:
    """The generated partner: two locations, its app and one PAL carrier."""
    return {
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
