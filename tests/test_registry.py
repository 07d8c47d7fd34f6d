"""Invariants of the readable registries: rules, sources, layering."""

from __future__ import annotations

import ast
from pathlib import Path

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


def test_connectors_import_nothing_from_agent() -> None:
    for path in (ROOT / "connectors").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert name != "agent" and not name.startswith("agent."), f"{path}: {name}"
