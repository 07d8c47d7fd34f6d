"""``partnerlink access`` as a person runs it: the dry run lists the writes (blocked ones with
why), writes an Azure Lighthouse template per customer with subscriptions to reach, and
``--apply`` is refused unless ``[repair] access_enabled``."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli.test_cli import partnerlink
from tests.e2e.test_access import SUB3, _config, _world
from tests.worlds import C1, C2, SUB2

PARTNER = "7a11ce00-0000-4000-8000-000000000001"


def test_the_dry_run_lists_the_writes_and_writes_lighthouse_templates(tmp_path: Path) -> None:
    _world(tmp_path)
    config = str(_config(tmp_path, enabled=False))
    assert partnerlink("--config", config, "sync").returncode == 3  # partial: C2 unreadable
    out = tmp_path / "lighthouse"

    result = partnerlink("--config", config, "access", "--lighthouse", str(out))

    assert result.returncode == 0, result.stderr
    text = result.stdout
    assert f"would send POST /v1/customers/{C2}/applicationconsents: consent app " in text
    assert "Microsoft Graph app roles Application.Read.All, Organization.Read.All" in text
    assert f"would send PUT /subscriptions/{SUB3}/providers/Microsoft.Authorization/" in text
    assert "4 write(s) planned, 4 sendable; nothing sent" in text
    assert f"lighthouse: az deployment sub create --subscription {SUB2}" in text
    template = json.loads((out / f"lighthouse-{C1}.json").read_text())
    definition = template["resources"][0]
    assert definition["type"] == "Microsoft.ManagedServices/registrationDefinitions"
    assert definition["properties"]["managedByTenantId"] == PARTNER
    [authorization] = definition["properties"]["authorizations"]
    assert authorization["roleDefinitionId"] == "acdd72a7-3385-48ef-bd42-f606fba81ae7"
    assert template["metadata"]["subscriptions"] == [SUB3]

    refused = partnerlink("--config", config, "access", "--apply")
    assert refused.returncode == 2
    assert "repair.access_enabled" in refused.stderr
