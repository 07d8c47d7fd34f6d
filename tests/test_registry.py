"""Invariants of the readable registries: rules, sources, layering."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from agent.audit import RULES
from connectors.records import RECORD_TYPES, Source
from connectors.sources import KINDS, SCOPE_KINDS

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


def test_connectors_import_nothing_from_the_agent_or_the_stand_in() -> None:
    modules = sorted((ROOT / "connectors").rglob("*.py"))
    assert len(modules) > 10
    for path in modules:
        for name in _imports(path):
            assert not _within(name, "agent"), f"{path}: {name}"
            assert not _within(name, "standin"), f"{path}: {name}"


def test_the_stand_in_imports_nothing_from_the_agent() -> None:
    for path in sorted((ROOT / "standin").rglob("*.py")):
        for name in _imports(path):
            assert not _within(name, "agent"), f"{path}: {name}"


def test_the_agent_uses_the_stand_in_only_where_it_composes_the_demo_and_local_modes() -> None:
    composers = {"app.py", "demo.py", "cli.py"}
    users = {
        path.relative_to(ROOT / "agent").as_posix()
        for path in (ROOT / "agent").rglob("*.py")
        if any(_within(name, "standin") for name in _imports(path))
    }
    assert users == composers


def test_a_run_against_microsoft_loads_nothing_of_the_stand_in() -> None:
    script = (
        "import sys\n"
        "import agent.cli, agent.daemon, agent.app, agent.live, agent.online, agent.web\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('standin', 'jsonschema', 'trustme')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert done.stdout.strip() == "[]"
