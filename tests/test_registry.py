"""Invariants of the readable registries (rules, sources, sinks) and of the layering."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Literal, get_args

from agent.alerts.config import SinkConfig
from agent.alerts.sinks import SINK_TYPES
from agent.audit import RULES
from connectors.fake import KINDS, SCOPE_KINDS
from connectors.records import RECORD_TYPES, Source

ROOT = Path(__file__).resolve().parents[1]


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
        assert source in SCOPE_KINDS and source in KINDS, source
        assert set(KINDS[source]) <= kinds, source


def _imports(path: Path) -> list[str]:
    """Every module ``path`` imports, at the top or inside a function."""
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
    return names


def _under(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def test_connectors_import_nothing_from_agent() -> None:
    for path in (ROOT / "connectors").rglob("*.py"):
        for name in _imports(path):
            assert not _under(name, "agent"), f"{path}: {name}"


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
