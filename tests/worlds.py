"""Small scenarios built in code for sync and end-to-end tests."""

from __future__ import annotations

import copy
from typing import Any

from standin.scenario import Scenario, parse_scenario
from tests.conftest import T0

PARTNER_TENANT = "7a11ce00-0000-4000-8000-000000000001"
C1 = "c1000000-0000-4000-8000-000000000001"
C2 = "c2000000-0000-4000-8000-000000000002"
SUB1 = "51000000-0000-4000-8000-000000000001"
SUB2 = "52000000-0000-4000-8000-000000000002"
APP_ID = "a9900000-0000-4000-8000-0000000000a1"


def customer(tenant: str, sub: str, *, pal: str | None = "4100002", **extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "tenant_id": tenant,
        "name": f"Customer {tenant[:2]}",
        "csp_subscriptions": [
            {"id": sub.replace("5", "e", 1), "offer_name": "M365 BP", "quantity": 10}
        ],
        "gdap": [
            {
                "id": f"{tenant}-rel",
                "status": "active",
                "ends": "+400d",
                "roles": ["729827e3-9c14-49f7-bb1b-9608f156bbb8"],
            }
        ],
        "azure_subscriptions": [
            {"subscription_id": sub, "display_name": "prod", "acr_usd": 1000.0}
        ],
        "identities": [{"identity": "partner-app", "roles": [{"scope": sub}], "pal": pal}],
        "attribution": [
            {
                "workload": "m365",
                "type": "CPOR",
                "partner_id": "4100002",
                "monthly_active_users": 10,
            }
        ],
    }
    data.update(extra)
    return data


def world_dict(
    *customers: dict[str, Any], faults: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    return {
        "version": 1,
        "name": "test",
        "partner": {
            "tenant_id": PARTNER_TENANT,
            "name": "Test Partner",
            "global_partner_id": "4100001",
            "locations": [{"partner_id": "4100002", "link_kinds": ["pal", "cpor", "dpor"]}],
            "app": {"client_id": APP_ID, "client_secret": "test-secret-value-1"},
        },
        "customers": list(customers) or [customer(C1, SUB1), customer(C2, SUB2)],
        "faults": faults or [],
    }


def world(*customers: dict[str, Any], faults: list[dict[str, Any]] | None = None) -> Scenario:
    return parse_scenario(copy.deepcopy(world_dict(*customers, faults=faults)), now=T0)
