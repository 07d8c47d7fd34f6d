"""Invariants of the readable registries (rules, sources, sinks) and of the layering."""

from __future__ import annotations

import ast
import asyncio
import re
import subprocess
import sys
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, get_args

import httpx
import pytest
from pydantic import ValidationError

from agent.alerts.sinks import SINK_TYPES, SinkConfig
from agent.audit.rules import RULES
from connectors.base import APP_USER, PARTNER_APP, Connector
from connectors.context import LiveContext
from connectors.endpoints import CloudEndpoints
from connectors.errors import ConnectorError
from connectors.http.requester import Requester
from connectors.insights.queries import DEFAULT_QUERIES
from connectors.records.registry import RECORD_TYPES
from connectors.records.scope import ScopeKind, Source
from connectors.source_row import SourceRow
from connectors.sources import LIVE, SOURCES, source_row
from standin.answers import FAKES
from standin.fake import FakeConnector, FakeWorld
from standin.scenario import Scenario, bundled_path, load_scenario, parse_scenario
from standin.scenario.generate import generate_scenario
from standin.scenario.model import FaultSpec
from tests.connectors.support import CountingTokens

ROOT = Path(__file__).resolve().parents[1]
PARTNER = "7a11ce00-0000-4000-8000-000000000001"
IDENTITIES = {PARTNER_APP: "a9900000-0000-4000-8000-0000000000a1", "carrier": "c1"}
NOW = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)


def test_rule_ids_are_unique_and_each_has_its_own_test_module() -> None:
    ids = [rule.meta.id for rule in RULES]
    assert len(ids) == len(set(ids))
    for rule_id in ids:
        assert (ROOT / "tests" / "audit" / "rules" / f"test_{rule_id}.py").is_file(), rule_id


def test_rules_have_complete_metadata_and_known_sources() -> None:
    for rule in RULES:
        meta = rule.meta
        assert meta.title and meta.rationale and meta.remediation, meta.id
        assert all(isinstance(s, Source) for s in meta.required_sources), meta.id


def test_every_source_has_a_scope_kind_and_record_kinds() -> None:
    kinds = {cls.KIND for cls in RECORD_TYPES}
    for source in Source:
        row = source_row(source)
        assert isinstance(row.scope_kind, ScopeKind), source
        assert row.kinds and set(row.kinds) <= kinds, source


# ------------------------------------------------------------------------------ source rows


def test_source_rows_have_unique_names_one_per_source_in_source_order() -> None:
    names = [row.name for row in SOURCES]
    assert len(names) == len(set(names))
    assert [row.source for row in SOURCES] == list(Source)


def test_the_scenario_accepts_a_fault_of_every_source_row_and_of_the_sign_in_only() -> None:
    # The schema does not spell the names out (a new source needs no new scenario format):
    # the model checks them against the rows.
    for name in [row.name for row in SOURCES] + ["login"]:
        assert FaultSpec(source=name, status=500).source == name
    with pytest.raises(ValidationError, match=r"unknown source 'graph\.nothing'"):
        FaultSpec(source="graph.nothing", status=500)


def test_rows_page_sizes_are_positive_and_count_pages_of_their_listings() -> None:
    for row in SOURCES:
        assert row.page_size > 0, row.name
        assert (row.pages(0), row.pages(1)) == (1, 1), row.name
        assert row.pages(row.page_size) == 1 and row.pages(row.page_size + 1) == 2, row.name


def _live_context(app_user: bool, folder: Path | None) -> LiveContext:
    client = httpx.AsyncClient(transport=httpx.MockTransport(lambda r: httpx.Response(404)))
    return LiveContext(
        requester=Requester(client, CountingTokens()),
        endpoints=CloudEndpoints.public(),
        partner_tenant_id=PARTNER,
        identities=IDENTITIES,
        app_user=app_user,
        insights_folder=folder,
        audit_lookback_days=30,
        insights_queries=DEFAULT_QUERIES,
        user_identity=APP_USER,
        sleep=asyncio.sleep,
    )


def _same_attributes(row: SourceRow, connector: Connector) -> bool:
    return (
        connector.source is row.source
        and connector.scope_kind is row.scope_kind
        and connector.kinds == row.kinds
        and getattr(connector, "requires", "absent") == row.requires
    )


def test_every_row_has_a_live_connector_with_its_attributes(tmp_path: Path) -> None:
    for app_user, folder in ((True, None), (False, tmp_path)):
        context = _live_context(app_user, folder)
        for live, row in zip(LIVE, SOURCES, strict=True):
            made = list(live.connect(context))
            if not app_user and row.source is Source.PC_USAGE:
                assert made == []  # app+user only: left out rather than failing every run
                continue
            assert made, row.name
            assert all(isinstance(c, Connector) for c in made), row.name
            assert all(_same_attributes(row, c) for c in made), row.name
            expected = list(IDENTITIES) if row.per_identity else [None]
            assert [c.identity for c in made] == expected, row.name


def test_every_row_has_a_fake_for_its_scope_and_the_fake_world_makes_it() -> None:
    assert set(FAKES) == {row.source for row in SOURCES}
    for row in SOURCES:
        fake = FAKES[row.source]
        assert (fake.partner is not None) == (row.scope_kind is ScopeKind.PARTNER), row.name
        assert (fake.customer is not None) == (row.scope_kind is ScopeKind.CUSTOMER), row.name
    world = FakeWorld(load_scenario(bundled_path("demo")))
    made = world.connectors(tuple(IDENTITIES))
    for row in SOURCES:
        fakes = [c for c in made if c.source is row.source]
        assert fakes and all(_same_attributes(row, c) for c in fakes), row.name
        assert len(fakes) == (len(IDENTITIES) if row.per_identity else 1), row.name


async def _kinds_read(connector: FakeConnector, scopes: list[str | None]) -> set[str]:
    kinds: set[str] = set()
    for scope in scopes:
        try:
            kinds |= {record.KIND async for record in connector.fetch(scope)}
        except ConnectorError:  # a tenant the identity cannot sign in to
            continue
    return kinds


def _produced(scenario: Scenario) -> dict[Source, set[str]]:
    """The record kinds each source's fake yields over every scope of ``scenario``."""
    calm = scenario.model_copy(update={"faults": []})
    world = FakeWorld(calm, clock=lambda: NOW, audit_lookback_days=3650)
    tenants: list[str | None] = [c.tenant_id for c in calm.customers]
    produced: dict[Source, set[str]] = defaultdict(set)
    for connector in world.connectors((PARTNER_APP, *(c.name for c in calm.partner.carriers))):
        partner = connector.scope_kind is ScopeKind.PARTNER
        scopes = [None] if partner else tenants
        produced[connector.source] |= asyncio.run(_kinds_read(connector, scopes))
    return produced


def test_every_record_kind_is_produced_by_exactly_the_rows_that_declare_it() -> None:
    worlds = [load_scenario(bundled_path(name), now=NOW) for name in ("demo", "demo-after")]
    worlds.append(parse_scenario(generate_scenario(20, seed=1), now=NOW))
    produced: dict[Source, set[str]] = defaultdict(set)
    for world in worlds:
        for source, kinds in _produced(world).items():
            produced[source] |= kinds
    for cls in RECORD_TYPES:
        declaring = {row.source for row in SOURCES if cls.KIND in row.kinds}
        producing = {source for source, kinds in produced.items() if cls.KIND in kinds}
        assert declaring, f"no source row declares {cls.KIND}"
        assert producing == declaring, cls.KIND


def _documented_permissions() -> set[tuple[str, ScopeKind]]:
    """(role, where) of every Graph role in docs/setup.md's least-privilege table."""
    text = (ROOT / "docs" / "setup.md").read_text(encoding="utf-8")
    table = text.split("## 2. Permissions", 1)[1].split("\n## ", 1)[0]
    documented: set[tuple[str, ScopeKind]] = set()
    for line in table.splitlines():
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if len(cells) != 4 or cells[1] not in ("partner tenant", "each customer tenant"):
            continue
        where = ScopeKind.PARTNER if cells[1] == "partner tenant" else ScopeKind.CUSTOMER
        documented |= {(role, where) for role in re.findall(r"`([A-Za-z.]+)`", cells[2])}
    return documented


def test_every_required_permission_is_a_documented_read_only_graph_role() -> None:
    documented = _documented_permissions()
    assert len(documented) >= 5
    for row in SOURCES:
        for permission in row.permissions:
            where = (permission.role, permission.granted_in)
            assert where in documented, f"{row.name}: {where} is not in docs/setup.md"
            assert re.fullmatch(r"[A-Za-z]+\.Read\.All", permission.role), row.name


def _imports(path: Path) -> list[str]:
    """Every module ``path`` imports, at the top, in functions or under TYPE_CHECKING."""
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def _within(name: str, package: str) -> bool:
    return name == package or name.startswith(f"{package}.")


def test_the_agent_uses_the_stand_in_only_where_it_composes_the_demo_and_local_modes() -> None:
    composers = {"app.py", "demo.py", "cli/tools.py"}
    users = {
        path.relative_to(ROOT / "agent").as_posix()
        for path in (ROOT / "agent").rglob("*.py")
        if any(_within(name, "standin") for name in _imports(path))
    }
    assert users == composers


def test_a_run_against_microsoft_loads_nothing_of_the_stand_in() -> None:
    script = (
        "import sys\n"
        "import agent.cli, agent.daemon, agent.app, agent.live, agent.readiness.estate, agent.web\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('standin', 'jsonschema', 'trustme')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert done.stdout.strip() == "[]"


def _under(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def test_only_the_store_declares_tables() -> None:
    store = ROOT / "agent" / "store"
    for path in (ROOT / "agent").rglob("*.py"):
        if store in path.parents:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef):
                table = any(k.arg == "table" for k in node.keywords)
                assert not table, f"{path}: {node.name} declares a table outside agent/store"


def test_only_the_store_speaks_sql_everything_else_goes_through_the_repository() -> None:
    store = ROOT / "agent" / "store"
    for path in [*(ROOT / "agent").rglob("*.py"), *(ROOT / "connectors").rglob("*.py")]:
        if store in path.parents:
            continue
        for name in _imports(path):
            assert not _under(name, "sqlalchemy"), f"{path}: {name}"
            assert not _under(name, "sqlmodel"), f"{path}: {name}"


def test_the_alerts_take_rule_titles_from_their_caller_not_from_the_audit() -> None:
    for path in (ROOT / "agent" / "alerts").rglob("*.py"):
        for name in _imports(path):
            assert not _under(name, "agent.audit"), f"{path}: {name}"


def test_every_sink_config_model_is_registered_exactly_once() -> None:
    union = get_args(get_args(SinkConfig)[0])
    registered = [t.config for t in SINK_TYPES.values()]
    assert sorted(registered, key=repr) == sorted(union, key=repr)
    assert len(set(registered)) == len(registered)
    for name, sink_type in SINK_TYPES.items():
        assert sink_type.config.model_fields["type"].annotation == Literal[name], name


def test_each_sink_config_model_lives_in_its_sink_module() -> None:
    """Adding a sink is its module (sink and config model), one registry line, its test."""
    for name, sink_type in SINK_TYPES.items():
        assert sink_type.config.__module__ == sink_type.sink.__module__, name
        assert sink_type.secrets.__module__ in (
            sink_type.sink.__module__,
            "agent.alerts.sinks.base",
        ), name


def test_audit_settings_are_read_in_one_place_and_handed_on() -> None:
    """Only the composition root reads ``[audit]`` (into ``Agent.policy``); the engine's
    context, the matrix, the report, the daemon and the demo get the thresholds from it."""
    readers = []
    for path in (ROOT / "agent").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        called = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
        readers += [
            f"{path.relative_to(ROOT)}:{node.lineno}"
            for node in ast.walk(tree)
            if isinstance(node, ast.Attribute) and node.attr == "audit" and id(node) not in called
        ]
    assert len(readers) == 1 and readers[0].startswith("agent/app.py:"), readers
