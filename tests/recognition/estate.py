"""A small estate for the credit view end to end: C1 buys its Microsoft 365 licences through
another partner's tenant while the managed-customers file says we deliver m365 there; C2 buys
them from us and runs Azure with our PAL. Written as a world, a managed-customers file and a
config (fake or emulator sources; app-only unless told, so no insight reports). Also the config
of the demo world or a generated estate on fake sources (``write_world``)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from tests.worlds import C1, C2, PARTNER_TENANT, SUB2, customer, world_dict

ELSEWHERE = "9e000000-0000-4000-8000-000000000005"
"""Another partner's tenant: it sold C1's licences."""
BP = "f245ecc8-75af-4f8e-b61f-27d8114de5f3"
"""O365_BUSINESS_PREMIUM."""


def licence(tenant: str, seats: int, owner: str | None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "sku_id": BP,
        "sku_part_number": "O365_BUSINESS_PREMIUM",
        "subscription_id": f"d{tenant[1:8]}-0000-4000-8000-000000000001",
        "enabled_units": seats,
        "consumed_units": seats - 5,
    }
    if owner is not None:
        data["owner_tenant_id"] = owner
    return data


def customers(name: str = "Cobalt Legal LLP") -> list[dict[str, Any]]:
    c1 = customer(C1, "51000000-0000-4000-8000-000000000001", name=name, attribution=[])
    c1.update(
        azure_subscriptions=[],
        csp_subscriptions=[],
        identities=[],
        licences=[licence(C1, 140, ELSEWHERE)],
        usage={"active_users": {"exchange": 131, "teams": 120, "office365": 131}},
    )
    c2 = customer(C2, SUB2, name="Delta Foods", attribution=[])
    c2["licences"] = [licence(C2, 25, PARTNER_TENANT)]
    return [c1, c2]


def write_estate(
    folder: Path,
    *,
    mode: str = "fake",
    name: str = "Cobalt Legal LLP",
    faults: list[dict[str, Any]] | None = None,
) -> Path:
    """The world, the managed-customers file and the config; returns the config's path."""
    (folder / "world.json").write_text(
        json.dumps(world_dict(*customers(name), faults=faults)), encoding="utf-8"
    )
    (folder / "managed.csv").write_text(
        "customer_tenant_id,name,workloads,expected_links\n"
        f"{C1},Cobalt,m365,cpor\n{C2},Delta,azure,pal\n",
        encoding="utf-8",
    )
    config = folder / "partnerlink.toml"
    config.write_text(
        "\n".join(
            [
                "[partner]",
                f'tenant_id = "{PARTNER_TENANT}"',
                'global_partner_id = "4100001"',
                "[[partner.locations]]",
                'partner_id = "4100002"',
                'link_kinds = ["pal", "cpor", "dpor"]',
                "[sources]",
                f'mode = "{mode}"',
                'scenario = "world.json"',
                "[store]",
                'data_dir = "."',
                "[expectations]",
                'managed_customers_file = "managed.csv"',
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    return config


def write_world(folder: Path, world: str, store_url: str | None = None) -> Path:
    """The config of a world on fake sources: the bundled ``demo``, or a generated estate of
    that many customers (``"150"``); its store at ``store_url`` (default: in the folder)."""
    from agent.demo import MANAGED, WORLD, write_config
    from standin.scenario import bundled_path, load_scenario
    from standin.scenario.generate import write_scenario

    if world == "demo":
        shutil.copy(bundled_path("demo"), folder / WORLD)
        shutil.copy(bundled_path("demo").with_name("demo-managed-customers.csv"), folder / MANAGED)
    else:
        write_scenario(folder / WORLD, int(world), 7)
        (folder / MANAGED).write_text("customer_tenant_id,name,workloads,expected_links\n")
    path = write_config(folder, load_scenario(folder / WORLD), "fake")
    if store_url is not None:
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace('data_dir = "."', f'url = "{store_url}"\ndata_dir = "."'))
    return path
