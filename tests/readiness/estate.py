"""A world whose access is broken in each way readiness names, served by the emulator:

C1 reads in full; C2 never consented to the partner's app; C3 consented to fewer Graph roles
(no Reports.Read.All); C4's app holds no Azure role on one of its two subscriptions; C5 is
covered by a carrier whose app registration was deleted, and its GDAP relationship expired.
Each customer has 10 seats (one CSP subscription) and one Azure subscription (C4 two).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.worlds import customer, world_dict

C1 = "c1000000-0000-4000-8000-000000000001"
C2 = "c2000000-0000-4000-8000-000000000002"
C3 = "c3000000-0000-4000-8000-000000000003"
C4 = "c4000000-0000-4000-8000-000000000004"
C5 = "c5000000-0000-4000-8000-000000000005"
SUB = {c: f"5{c[1]}000000-0000-4000-8000-000000000001" for c in (C1, C2, C3, C4, C5)}
SUB4_NO_ROLE = "54000000-0000-4000-8000-000000000002"
CARRIER = "ops"
CARRIER_ID = "a9900000-0000-4000-8000-0000000000c1"
NAMES = {C1: "Alpine", C2: "Birch", C3: "Cedar", C4: "Dune", C5: "Elm"}


def _named(tenant: str, **extra: Any) -> dict[str, Any]:
    data = customer(tenant, SUB[tenant], **extra)
    data["name"] = NAMES[tenant]
    return data


def estate() -> dict[str, Any]:
    c4 = _named(C4)
    c4["azure_subscriptions"].append({"subscription_id": SUB4_NO_ROLE, "acr_usd": 500.0})
    c5 = _named(C5, identities=[{"identity": "partner-app", "roles": [{"scope": SUB[C5]}]}])
    c5["identities"].append({"identity": CARRIER, "roles": [{"scope": SUB[C5]}]})
    c5["gdap"][0].update({"status": "expired", "ends": "-10d"})
    world = world_dict(
        _named(C1),
        _named(C2, consented=False),
        _named(C3, app_roles=["Organization.Read.All", "Application.Read.All"]),
        c4,
        c5,
    )
    world["partner"]["carriers"] = [
        {
            "name": CARRIER,
            "client_id": CARRIER_ID,
            "client_secret": "carrier-secret-value-1",
            "status": "deleted",
        }
    ]
    return world


def write_estate(folder: Path, world: dict[str, Any] | None = None, **readiness: object) -> Path:
    """The world and a config reading it through the emulator; returns the config."""
    (folder / "world.json").write_text(json.dumps(world or estate()))
    lines = [
        "[partner]",
        'tenant_id = "7a11ce00-0000-4000-8000-000000000001"',
        'global_partner_id = "4100001"',
        "[[partner.locations]]",
        'partner_id = "4100002"',
        "[[credentials.carriers]]",
        f'name = "{CARRIER}"',
        f'tenants = ["{C5}"]',
        "[sources]",
        'mode = "emulator"',
        'scenario = "world.json"',
        "app_user = true",
        "[store]",
        'data_dir = "."',
        "[http]",
        "enabled = false",
        "[readiness]",
        *(f"{k} = {json.dumps(v)}" for k, v in readiness.items()),
    ]
    config = folder / "partnerlink.toml"
    config.write_text("\n".join(lines) + "\n")
    return config
