"""A quick proof that a scenario document conforms to its JSON Schema, for the documents that
do: what ``jsonschema`` accepts, proven without its per-object machinery (most of the time of
loading a large scenario). Whatever it cannot prove (an error, or a keyword or value it does
not know) is left to ``jsonschema``, which also words every error."""

from __future__ import annotations

import numbers
import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

ANNOTATIONS = frozenset(
    {"title", "description", "default", "examples", "$schema", "$id", "$defs", "$comment"}
)
"""Keywords that never refuse a value (``format`` too: ``jsonschema`` checks it only when given
a format checker, and the scenario's validator has none)."""

Defs = dict[str, Any]
Check = Callable[[Any, Any, dict[str, Any], Defs], bool]


def conforms(schema: Any, document: Any) -> bool:
    """True only where ``jsonschema`` finds no error in ``document``; False where it may."""
    return _valid(schema, document, schema.get("$defs", {}) if isinstance(schema, dict) else {})


def _valid(schema: Any, value: Any, defs: Defs) -> bool:
    if schema is True:
        return True
    if not isinstance(schema, dict):
        return False
    for key, rule in schema.items():
        if key in ANNOTATIONS or key == "format":
            continue
        check = _CHECKS.get(key)
        if check is None or not check(rule, value, schema, defs):
            return False
    return True


def _is(value: Any, kind: Any) -> bool:
    """``jsonschema``'s types, integers narrowed to ``int`` (where it also takes ``2.0``)."""
    if kind == "string":
        return isinstance(value, str)
    if kind == "object":
        return isinstance(value, dict)
    if kind == "array":
        return isinstance(value, list)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "null":
        return value is None
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, numbers.Number) and not isinstance(value, bool)
    return False


def _same(value: Any, expected: Any) -> bool:
    """Equal as ``jsonschema`` compares, proven for plain values of one type only."""
    plain = (str, int, float, bool, type(None))
    return type(value) is type(expected) and type(value) in plain and value == expected


def _number(value: Any) -> bool:
    return _is(value, "number")


@lru_cache(maxsize=256)
def _pattern(text: str) -> re.Pattern[str]:
    return re.compile(text)


def _type(rule: Any, value: Any, schema: dict[str, Any], defs: Defs) -> bool:
    kinds = rule if isinstance(rule, list) else [rule]
    return any(_is(value, kind) for kind in kinds)


def _properties(rule: Any, value: Any, schema: dict[str, Any], defs: Defs) -> bool:
    if not isinstance(value, dict):
        return True
    return all(_valid(sub, value[name], defs) for name, sub in rule.items() if name in value)


def _additional(rule: Any, value: Any, schema: dict[str, Any], defs: Defs) -> bool:
    if not isinstance(value, dict):
        return True
    if "patternProperties" in schema:
        return False
    known = schema.get("properties", {})
    extras = [name for name in value if name not in known]
    if rule is False:
        return not extras
    return rule is True or all(_valid(rule, value[name], defs) for name in extras)


def _required(rule: Any, value: Any, schema: dict[str, Any], defs: Defs) -> bool:
    return not isinstance(value, dict) or all(name in value for name in rule)


def _items(rule: Any, value: Any, schema: dict[str, Any], defs: Defs) -> bool:
    if not isinstance(value, list):
        return True
    return "prefixItems" not in schema and all(_valid(rule, item, defs) for item in value)


def _any_of(rule: Any, value: Any, schema: dict[str, Any], defs: Defs) -> bool:
    return any(_valid(sub, value, defs) for sub in rule)


def _ref(rule: Any, value: Any, schema: dict[str, Any], defs: Defs) -> bool:
    name = rule.removeprefix("#/$defs/") if isinstance(rule, str) else None
    return name is not None and name != rule and name in defs and _valid(defs[name], value, defs)


_CHECKS: dict[str, Check] = {
    "type": _type,
    "properties": _properties,
    "additionalProperties": _additional,
    "required": _required,
    "items": _items,
    "anyOf": _any_of,
    "$ref": _ref,
    "enum": lambda rule, value, _s, _d: any(_same(value, each) for each in rule),
    "const": lambda rule, value, _s, _d: _same(value, rule),
    "pattern": lambda rule, value, _s, _d: (
        not isinstance(value, str) or _pattern(rule).search(value) is not None
    ),
    "minLength": lambda rule, value, _s, _d: not isinstance(value, str) or len(value) >= rule,
    "minimum": lambda rule, value, _s, _d: not _number(value) or value >= rule,
    "maximum": lambda rule, value, _s, _d: not _number(value) or value <= rule,
    "exclusiveMinimum": lambda rule, value, _s, _d: not _number(value) or value > rule,
}
"""What each keyword the proof knows demands of a value (as ``jsonschema/_keywords.py``)."""
