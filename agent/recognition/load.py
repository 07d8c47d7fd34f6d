"""The shipped rulebook and SKU table, merged with the partner's override file, validated.

Microsoft changes the rules every fiscal year, faster than releases: a partner can replace or
add rules, sources, workloads and SKUs, or disable a shipped rule, in one JSON file named by
``[recognition] rulebook_file``. Every problem is one line naming the file and the JSON path.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator, Mapping
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from agent.recognition.model import Rulebook, build_rulebook

if TYPE_CHECKING:
    from referencing import Registry

PACKAGE = "agent.recognition"
RULEBOOK = "rulebook.json"
SKUS = "skus.json"


class RulebookError(ValueError):
    """A rulebook, SKU table or override that cannot be used: ``file: $.path: what``."""


def _shipped_text(name: str) -> str:
    return resources.files(PACKAGE).joinpath(name).read_text(encoding="utf-8")


@cache
def _schemas() -> tuple[dict[str, Any], dict[str, Any], Registry]:
    # Imported here, not at the top: importing the agent must not load the validator (the
    # stand-in's dependency) until a rulebook is actually read.
    from referencing import Registry, Resource

    book: dict[str, Any] = json.loads(_shipped_text("rulebook.schema.json"))
    skus: dict[str, Any] = json.loads(_shipped_text("skus.schema.json"))
    registry: Registry = Registry().with_resources(
        [(skus["$id"], Resource.from_contents(skus)), (book["$id"], Resource.from_contents(book))]
    )
    return book, skus, registry


def _validate(data: Any, schema: dict[str, Any], origin: str) -> None:
    import jsonschema

    validator = jsonschema.Draft202012Validator(schema, registry=_schemas()[2])
    error = jsonschema.exceptions.best_match(validator.iter_errors(data))
    if error is not None:
        raise RulebookError(f"{origin}: {error.json_path}: {error.message}")


def read_json(path: Path) -> Any:
    """A JSON document, or a :class:`RulebookError` naming the file and what is wrong."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RulebookError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise RulebookError(f"{path}: is a directory, expected a JSON file") from None
    except PermissionError:
        raise RulebookError(f"{path}: cannot be read (permission denied)") from None
    except UnicodeDecodeError:
        raise RulebookError(f"{path}: not UTF-8 text") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise RulebookError(f"{path}: not valid JSON: line {exc.lineno}: {exc.msg}") from None


def shipped() -> tuple[dict[str, Any], dict[str, Any]]:
    """The rulebook and SKU table shipped in the package (deep copies: callers may merge)."""
    book, skus = _shipped_documents()
    return copy.deepcopy(book), copy.deepcopy(skus)


@cache
def _shipped_documents() -> tuple[dict[str, Any], dict[str, Any]]:
    book_schema, skus_schema, _ = _schemas()
    book = json.loads(_shipped_text(RULEBOOK))
    skus = json.loads(_shipped_text(SKUS))
    _validate(book, book_schema, f"{PACKAGE}/{RULEBOOK}")
    _validate(skus, skus_schema, f"{PACKAGE}/{SKUS}")
    return book, skus


def load_rulebook(override: Path | None = None) -> Rulebook:
    """The rulebook in force: the shipped one, merged with ``override`` when given."""
    book, skus = shipped()
    _check_references(book, skus, book.get("rules", []), f"{PACKAGE}/{RULEBOOK}", "$")
    if override is not None:
        patch = read_json(override)
        _validate(patch, _override_schema(), str(override))
        book, skus = merge(book, skus, patch, str(override))
    return build_rulebook(book, skus)


@cache
def shipped_rulebook() -> Rulebook:
    """The shipped rulebook, built once per process (the default of an audit's context)."""
    return load_rulebook()


def check_override(path: Path) -> None:
    """Raise :class:`RulebookError` if the override file cannot be used (for ``check``)."""
    load_rulebook(path)


@cache
def _override_schema() -> dict[str, Any]:
    """The rulebook schema with every top-level key optional."""
    schema = dict(_schemas()[0])
    schema["required"] = []
    return schema


def merge(
    book: dict[str, Any], skus: dict[str, Any], patch: Mapping[str, Any], origin: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Override by key: sources, workloads, tracks (by area), SKUs (by part number) and rules
    (by id) of the patch replace or extend the shipped ones; ``disable`` removes shipped rules."""
    book["sources"].update(patch.get("sources", {}))
    skus["sources"].update(patch.get("sources", {}))
    book["workloads"].update(patch.get("workloads", {}))
    book.setdefault("tracks", {}).update(patch.get("tracks", {}))
    rules = {rule["id"]: rule for rule in book["rules"]}
    for at, rule_id in enumerate(patch.get("disable", [])):
        if rule_id not in rules:
            raise RulebookError(f"{origin}: $.disable[{at}]: no rule {rule_id!r} to disable")
        del rules[rule_id]
    for rule in patch.get("rules", []):
        rules[rule["id"]] = rule
    book["rules"] = list(rules.values())
    by_part = {sku["part_number"].upper(): sku for sku in skus["skus"]}
    for sku in patch.get("skus", []):
        by_part[sku["part_number"].upper()] = sku
    skus["skus"] = list(by_part.values())
    _check_references(book, skus, patch.get("rules", []), origin, "$", patch.get("skus", []))
    return book, skus


def _check_references(
    book: Mapping[str, Any],
    skus: Mapping[str, Any],
    rules: list[Mapping[str, Any]],
    origin: str,
    root: str,
    sku_entries: list[Mapping[str, Any]] | None = None,
) -> None:
    """Every name a rule, workload or SKU uses must exist; rule ids are unique."""
    for where, problem in _problems(book, skus, rules, sku_entries, root):
        raise RulebookError(f"{origin}: {where}: {problem}")


def _problems(
    book: Mapping[str, Any],
    skus: Mapping[str, Any],
    rules: list[Mapping[str, Any]],
    sku_entries: list[Mapping[str, Any]] | None,
    root: str,
) -> Iterator[tuple[str, str]]:
    sources, workloads = book["sources"], book["workloads"]
    seen: set[str] = set()
    for at, rule in enumerate(rules):
        here = f"{root}.rules[{at}]"
        if rule["id"] in seen:
            yield f"{here}.id", f"rule id {rule['id']!r} appears twice"
        seen.add(rule["id"])
        for i, evidence in enumerate(rule["evidence"]):
            if evidence["source"] not in sources:
                yield f"{here}.evidence[{i}].source", f"{evidence['source']!r} is not a source"
        for i, workload in enumerate(rule["workloads"]):
            if workload not in workloads:
                yield f"{here}.workloads[{i}]", f"{workload!r} is not a workload"
    for area, split in book.get("tracks", {}).items():
        here = f"{root}.tracks.{area}"
        for i, evidence in enumerate(split["evidence"]):
            if evidence["source"] not in sources:
                yield f"{here}.evidence[{i}].source", f"{evidence['source']!r} is not a source"
        for i, workload in enumerate(split["workloads"]):
            if workload not in workloads:
                yield f"{here}.workloads[{i}]", f"{workload!r} is not a workload"
    for key, workload in workloads.items():
        if workload["source"] not in sources:
            yield f"{root}.workloads.{key}.source", f"{workload['source']!r} is not a source"
    entries = skus["skus"] if sku_entries is None else sku_entries
    for at, sku in enumerate(entries):
        if sku["source"] not in skus["sources"]:
            yield f"{root}.skus[{at}].source", f"{sku['source']!r} is not a source"
        for i, workload in enumerate(sku["workloads"]):
            if workload not in workloads:
                yield f"{root}.skus[{at}].workloads[{i}]", f"{workload!r} is not a workload"
