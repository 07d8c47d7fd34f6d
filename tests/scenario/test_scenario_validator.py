"""The scenario validator with its references written out in place judges every document as the
shipped schema does: the same first error, at the same place, for each way a document breaks."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import jsonschema

from standin.scenario import bundled_path, scenario_schema, scenario_validator


def _places(node: Any, path: tuple[str | int, ...] = ()) -> Iterator[tuple[str | int, ...]]:
    yield path
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _places(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _places(value, (*path, index))


def _shape(path: tuple[str | int, ...]) -> tuple[str, ...]:
    return tuple("*" if isinstance(step, int) else step for step in path)


def _small_demo() -> dict[str, Any]:
    """The demo world with only the customers that show a field no other customer shows."""
    document: dict[str, Any] = json.loads(bundled_path("demo").read_text(encoding="utf-8"))
    document.pop("$comment")
    first: dict[tuple[str, ...], tuple[str | int, ...]] = {}
    for path in _places(document):
        first.setdefault(_shape(path), path)
    keep = sorted({p[1] for p in first.values() if len(p) > 1 and p[0] == "customers"})
    document["customers"] = [document["customers"][i] for i in keep]
    return document


def _broken(document: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The document with one value of another type, one key gone, or one key unknown, at the
    first place of each shape (``customers/*/name``)."""
    first: dict[tuple[str, ...], tuple[str | int, ...]] = {}
    for place in _places(document):
        first.setdefault(_shape(place), place)
    for path in first.values():
        if not path:
            continue
        for change in ("type", "drop", "extra"):
            doc = copy.deepcopy(document)
            parent: Any = doc
            for step in path[:-1]:
                parent = parent[step]
            last = path[-1]
            if change == "type":
                value = parent[last]
                parent[last] = "text" if not isinstance(value, str) else 12345
            elif change == "drop" and isinstance(parent, dict):
                del parent[last]
            elif change == "extra" and isinstance(parent[last], dict):
                parent[last]["unknown_key"] = 1
            else:
                continue
            yield doc


def _verdict(validator: jsonschema.Draft202012Validator, doc: Any) -> tuple[Any, ...] | None:
    error = jsonschema.exceptions.best_match(validator.iter_errors(doc))
    if error is None:
        return None
    return (error.message, list(error.absolute_path), error.validator)


def test_the_inlined_validator_finds_the_same_first_error_as_the_shipped_schema() -> None:
    document = _small_demo()
    shipped = jsonschema.Draft202012Validator(scenario_schema())
    inlined = scenario_validator()
    compared = refused = 0
    for doc in _broken(document):
        expected = _verdict(shipped, doc)
        assert _verdict(inlined, doc) == expected
        compared += 1
        refused += expected is not None
    assert _verdict(inlined, document) is None
    assert compared > 200 and refused > 150
