"""``partnerlink access`` with the hostile names of ``names.py``: every customer unconsented, so
every name is in a planned write; the dry run shows them as written and never as markup."""

from __future__ import annotations

import io
import json
from pathlib import Path

from agent.app import Agent
from agent.config import load_settings
from tests.conftest import Clock
from tests.hostile import inert
from tests.hostile.conftest import config_text
from tests.hostile.names import world
from tests.hostile.test_outputs import CLEANED, run, terminal

__all__ = ["terminal"]  # the fixture, used by name


def test_the_access_plan_shows_names_literally(tmp_path: Path, terminal: io.StringIO) -> None:
    document = world()
    for customer in document["customers"]:
        customer["consented"] = False
    (tmp_path / "world.json").write_text(json.dumps(document), encoding="utf-8")
    config = tmp_path / "partnerlink.toml"
    config.write_text(config_text("world.json"))
    with Agent(load_settings(config), clock=Clock()) as agent:
        agent.sync()

    run(config, "access")
    shown = terminal.getvalue()

    inert.terminal(shown, "access")
    assert "[bold red]Fabrikam[/]" in shown
    assert shown.count("applicationconsents") >= len(CLEANED) // 2
