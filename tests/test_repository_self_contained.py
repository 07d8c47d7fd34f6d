"""A fresh clone tests on its own: no file reaches outside the repository for its inputs, and
the Microsoft payload fixtures are exactly the files their README names, each with its source.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures import MICROSOFT

ROOT = Path(__file__).resolve().parents[1]
SCANNED_DIRS = ("tests", "bench", "agent", "connectors", "standin", "docs", ".ci")
SCANNED_FILES = ("README.md", "Dockerfile", "config.example.toml", "pyproject.toml")
PRUNED = {"__pycache__", ".venv", ".git", ".mypy_cache", ".ruff_cache", ".pytest_cache"}
THIS = Path(__file__).resolve()  # names the very strings it looks for

# The folder of reference material once kept beside the repository, spelled in pieces so that
# a search of the tree for it finds real uses only, not this test.
SIBLING = "sha" + "red"
# Ways the tests once reached it.
OUTSIDE = (
    f"../{SIBLING}",
    f"/work/{SIBLING}",
    f"{SIBLING}/samples",
    f'"{SIBLING}" / "samples"',
    f"'{SIBLING}' / 'samples'",
)
# A walk up from a file (``.parent`` / ``.parents[N]``) that then joins the sibling folder.
PARENT_THEN_SHARED = re.compile(r"\.parents?\b[^\n]*/\s*[\"']shared[\"']")
# ``Path(__file__)[.resolve()]`` followed by ``.parents[N]`` and/or ``.parent`` steps.
ANCESTOR = re.compile(
    r"Path\(__file__\)(?:\.resolve\(\))?"
    r"(?:\.parents\[(?P<index>\d+)\])?(?P<steps>(?:\.parent(?![s\w]))*)"
)
ENVELOPE = {"_source", "_note", "request", "requestBody", "status", "headers", "body"}
ROW = re.compile(r"^\| `(?P<name>[^`]+)` \| (?P<source>.+) \|$")


def scanned_files() -> Iterator[Path]:
    for name in SCANNED_FILES:
        if (ROOT / name).is_file():
            yield ROOT / name
    for top in SCANNED_DIRS:
        for folder, dirs, files in os.walk(ROOT / top):
            dirs[:] = sorted(d for d in dirs if d not in PRUNED and not d.endswith(".egg-info"))
            for name in sorted(files):
                path = Path(folder, name)
                if path.resolve() != THIS:
                    yield path


def escapes(path: Path, text: str) -> list[str]:
    """The places in ``text`` (of the file ``path``) that point outside the repository."""
    found = [needle for needle in OUTSIDE if needle in text]
    found += [m.group(0) for m in PARENT_THEN_SHARED.finditer(text)]
    for match in ANCESTOR.finditer(text):
        if match.group("index") is None and not match.group("steps"):
            continue
        up = int(match.group("index") or -1) + 1 + match.group("steps").count(".parent")
        anchor = path.resolve().parents[up - 1] if up <= len(path.resolve().parents) else None
        if anchor is None or not anchor.is_relative_to(ROOT):
            found.append(match.group(0))
    return found


def test_the_scan_sees_the_code_and_the_tests() -> None:
    seen = {p.relative_to(ROOT).as_posix() for p in scanned_files()}
    assert {"agent/cli/root.py", "tests/contract/test_samples.py", "bench/scale.py"} <= seen
    assert "tests/fixtures/microsoft/README.md" in seen


def test_a_walk_above_the_repository_is_caught() -> None:
    here = ROOT / "tests" / "contract" / "test_x.py"
    assert escapes(here, 'S = Path(__file__).resolve().parents[2].parent / "x"')
    assert escapes(here, "S = Path(__file__).parent.parent.parent.parent")
    assert escapes(here, f'S = Path(__file__).parents[1] / "{SIBLING}"')
    assert not escapes(here, 'S = Path(__file__).resolve().parents[2] / "tests"')
    assert not escapes(here, "S = Path(__file__).parent")


def test_no_file_refers_to_a_path_outside_the_repository() -> None:
    offenders = {}
    for path in scanned_files():
        text = path.read_bytes().decode("utf-8", errors="replace")
        found = escapes(path, text)
        if found:
            offenders[path.relative_to(ROOT).as_posix()] = found
    assert offenders == {}


def readme_sources() -> dict[str, str]:
    text = (MICROSOFT / "README.md").read_text(encoding="utf-8")
    sources = text.split("\n## Sources\n", 1)[1]
    rows = [ROW.match(line) for line in sources.splitlines()]
    return {m.group("name"): m.group("source") for m in rows if m}


def test_the_fixtures_are_exactly_the_files_their_readme_names() -> None:
    named = readme_sources()
    present = {p.name for p in MICROSOFT.iterdir() if p.is_file()} - {"README.md"}
    assert len(named) >= 40
    assert sorted(present - set(named)) == [], "fixtures the README does not name"
    assert sorted(set(named) - present) == [], "named in the README but not in the folder"


@pytest.mark.parametrize("name", sorted(p.name for p in MICROSOFT.glob("*.json")))
def test_each_json_fixture_keeps_its_envelope_and_the_readme_its_source(name: str) -> None:
    data = json.loads((MICROSOFT / name).read_text(encoding="utf-8"))
    assert set(data) <= ENVELOPE
    assert {"_source", "body"} <= set(data)
    assert readme_sources().get(name) == data["_source"]
