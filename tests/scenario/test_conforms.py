"""The proof that a scenario conforms to its schema never passes a document ``jsonschema``
refuses, and passes the worlds that conform (so they are not walked twice)."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest

from standin.scenario import bundled_path, scenario_schema
from standin.scenario.conforms import conforms
from standin.scenario.generate import generate_scenario


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


def _errors(document: Any) -> list[str]:
    validator = jsonschema.Draft202012Validator(scenario_schema())
    return [error.message for error in validator.iter_errors(document)]


def test_no_broken_document_is_proven_to_conform() -> None:
    document = _small_demo()
    schema = scenario_schema()
    assert conforms(schema, document)
    broken = [doc for doc in _broken(document) if _errors(doc)]
    assert len(broken) > 150
    assert [doc for doc in broken if conforms(schema, doc)] == []


def test_a_generated_world_is_proven_to_conform() -> None:
    document = json.loads(json.dumps(generate_scenario(30, 7, time_scale=1.0, latency_ms=0)))
    assert _errors(document) == []
    assert conforms(scenario_schema(), document)


@pytest.mark.parametrize(
    ("schema", "value"),
    [
        ({"type": "integer"}, True),
        ({"type": "integer"}, 2.0),  # jsonschema takes it; the proof does not try
        ({"type": "number"}, False),
        ({"enum": [1]}, True),
        ({"enum": [1, "a"]}, 1.0),
        ({"const": 0}, False),
        ({"type": "object", "additionalProperties": False}, {"x": 1}),
        ({"additionalProperties": False, "patternProperties": {"^x": {}}}, {"x": 1}),
        ({"type": "array", "prefixItems": [{}], "items": False}, [1]),
        ({"uniqueItems": True}, [1, 2]),  # a keyword the proof does not know
        ({"$ref": "https://elsewhere.invalid/schema"}, 1),
        ({"$ref": "#/$defs/Missing"}, 1),
        ({"pattern": "^a"}, "ba"),
        ({"minLength": 2}, "a"),
        ({"minimum": 1}, 0),
        ({"maximum": 1}, 2),
        ({"exclusiveMinimum": 0}, 0),
        ({"anyOf": [{"type": "string"}, {"type": "null"}]}, 3),
        ({"required": ["a"]}, {}),
    ],
)
def test_what_the_proof_cannot_show_is_left_to_jsonschema(
    schema: dict[str, Any], value: Any
) -> None:
    assert not conforms(schema, value)


def test_what_every_keyword_allows_is_proven() -> None:
    schema = {
        "$defs": {"Id": {"type": "string", "pattern": "^[a-f]+$", "minLength": 1}},
        "type": "object",
        "title": "annotations are ignored",
        "properties": {
            "id": {"$ref": "#/$defs/Id", "default": "a"},
            "n": {"type": "integer", "minimum": 0, "maximum": 9, "exclusiveMinimum": -1},
            "kind": {"enum": ["a", "b"], "format": "anything"},
            "fixed": {"const": True},
            "tags": {"type": "array", "items": {"type": ["string", "null"]}},
            "more": {"anyOf": [{"type": "null"}, {"type": "number"}]},
        },
        "required": ["id"],
        "additionalProperties": {"type": "boolean"},
    }
    value = {"id": "abc", "n": 3, "kind": "b", "fixed": True, "tags": ["x", None], "more": 1.5}
    assert conforms(schema, {**value, "extra": False})
    assert jsonschema.Draft202012Validator(schema).is_valid({**value, "extra": False})
