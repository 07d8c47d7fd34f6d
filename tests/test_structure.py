"""The code keeps its shape: no import circles, small files and functions, and the layers
(connectors/ knows neither the agent nor the stand-in; the stand-in does not know the agent).

Imports are read with ``ast``, so imports inside functions and under ``TYPE_CHECKING`` count:
they are circles waiting for the day someone moves them to the top of the file.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("agent", "connectors", "standin")
MAX_FILE_LINES = 400
MAX_FUNCTION_LINES = 60
MIGRATIONS = "agent/store/migrations/versions/"
"""Alembic revision files are generated and frozen: they keep whatever shape they were born in."""

EXCEPTIONS: dict[str, str] = {}
"""Files (``path``) and functions (``path::name``) allowed over the limits, each with its reason."""


def _files() -> list[Path]:
    return sorted(
        path
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if "__pycache__" not in path.parts
    )


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def _imported(source: str, package: str, known: set[str]) -> Iterator[str]:
    """Every module that running ``source`` (a module of ``package``) imports, wherever the
    import stands; ``from p import m`` names the module ``p.m`` when ``known`` holds it."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            yield base
            yield from (f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in known)


def _with_parents(name: str, importer: str) -> set[str]:
    """``a.b.c`` imports ``a``, ``a.b`` and ``a.b.c``; the importer's own ancestors are
    already being imported when it runs, so they add nothing."""
    parts = name.split(".")
    prefixes = {".".join(parts[: i + 1]) for i in range(len(parts))}
    return {p for p in prefixes if not importer.startswith(p + ".")}


def module_graph() -> dict[str, set[str]]:
    """Module name -> the modules of ours it imports (with their parent packages)."""
    files = _files()
    known = {_module_name(p) for p in files}
    graph: dict[str, set[str]] = {}
    for path in files:
        module = _module_name(path)
        package = module if _is_package(path) else module.rpartition(".")[0]
        targets: set[str] = set()
        for name in _imported(path.read_text(encoding="utf-8"), package, known):
            targets |= _with_parents(name, module) & known
        graph[module] = targets - {module}
    return graph


def circles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _oversized() -> dict[str, int]:
    """Files over the line limit and functions over theirs, by ``path`` or ``path::name``."""
    found: dict[str, int] = {}
    for path in _files():
        rel = _rel(path)
        if rel.startswith(MIGRATIONS):
            continue
        text = path.read_text(encoding="utf-8")
        if (lines := len(text.splitlines())) > MAX_FILE_LINES:
            found[rel] = lines
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    found[f"{rel}::{node.name}"] = length
    return found


def _under(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def test_there_are_no_import_circles() -> None:
    assert circles(module_graph()) == []


def test_the_circle_finder_sees_in_function_imports_and_parent_packages() -> None:
    graph = {"a.x": {"b"}, "b": {"a", "a.y"}, "a": {"a.x"}, "a.y": set()}
    assert circles(graph) == [["a", "a.x", "b"]]
    assert _with_parents("agent.cli.root", "agent.cli.run_cmds") == {"agent.cli.root"}
    assert _with_parents("agent.cli.root", "agent.report") == {"agent.cli", "agent.cli.root"}
    source = "def f():\n    if TYPE_CHECKING:\n        from agent import cli_args\n"
    assert set(_imported(source, "agent", {"agent", "agent.cli_args"})) == {
        "agent",
        "agent.cli_args",
    }
    assert set(_imported("from .x import y", "agent.cli", set())) == {"agent.cli.x"}


def test_no_file_or_function_is_over_the_limits_unless_listed_with_its_reason() -> None:
    found = _oversized()
    assert sorted(set(found) - set(EXCEPTIONS)) == [], found


def test_every_exception_is_still_needed_and_says_why() -> None:
    found = _oversized()
    assert all(reason.strip() for reason in EXCEPTIONS.values())
    stale = [key for key in EXCEPTIONS if key not in found]
    assert stale == [], "within the limits now: drop from EXCEPTIONS"


def test_connectors_import_neither_the_agent_nor_the_stand_in() -> None:
    graph = module_graph()
    modules = [m for m in graph if _under(m, "connectors")]
    assert len(modules) > 10
    for module in modules:
        for name in graph[module]:
            assert not _under(name, "agent") and not _under(name, "standin"), (module, name)


def test_the_stand_in_imports_nothing_from_the_agent() -> None:
    graph = module_graph()
    modules = [m for m in graph if _under(m, "standin")]
    assert len(modules) > 10
    for module in modules:
        assert not any(_under(name, "agent") for name in graph[module]), module


def test_no_module_imports_the_command_line() -> None:
    graph = module_graph()
    for module, names in graph.items():
        if not _under(module, "agent.cli") and module != "agent.__main__":
            assert not any(_under(name, "agent.cli") for name in names), module
