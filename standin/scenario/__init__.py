"""Scenario files: loading, the merge-patch of a second state onto a base, schema validation.

A scenario file is either a whole world, or ``{"base": "<file>", "patch": {...}}``: an
RFC 7396 merge patch applied to the base, in which ``customers`` may be an object keyed by tenant
id (merged into the base's list by tenant id; ``null`` removes the customer).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
from pydantic import ValidationError

from standin.scenario.base import PlacedError
from standin.scenario.conforms import conforms
from standin.scenario.model import (
    CustomerSpec,
    FaultSpec,
    Scenario,
)

__all__ = [
    "CustomerSpec",
    "FaultSpec",
    "Scenario",
    "ScenarioError",
    "bundled_path",
    "load_scenario",
    "parse_scenario",
    "scenario_schema",
]

SCHEMA_FILE = "scenario.schema.json"


class ScenarioError(ValueError):
    """A scenario that cannot be used; the message names the file and the place in it."""


def bundled_path(name: str = "demo") -> Path:
    """Path of a scenario shipped with the package (``demo``, ``demo-after``)."""
    path = Path(str(resources.files("standin.scenario") / "worlds" / f"{name}.json"))
    if not path.is_file():
        raise ScenarioError(f"no bundled scenario named {name!r}")
    return path


@cache
def scenario_schema() -> dict[str, Any]:
    """The JSON Schema shipped in the package (generated from the model, checked by a test)."""
    text = (resources.files("standin.scenario") / SCHEMA_FILE).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def generated_schema() -> dict[str, Any]:
    """The schema as the model defines it today: what ``scenario.schema.json`` must equal."""
    schema = Scenario.model_json_schema(mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://partnerlink.invalid/scenario.schema.json"
    return schema


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScenarioError(f"{path}: no such scenario file") from None
    except json.JSONDecodeError as exc:
        raise ScenarioError(f"{path}: not valid JSON (line {exc.lineno}: {exc.msg})") from None


def _merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396 JSON merge patch."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = _merge_patch(result.get(key), value)
    return result


def _apply_patch(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    patch = dict(patch)
    by_tenant = patch.pop("customers", None)
    merged: dict[str, Any] = _merge_patch(base, patch)
    if isinstance(by_tenant, dict):
        customers = [dict(c) for c in base.get("customers", [])]
        index = {str(c.get("tenant_id", "")).lower(): i for i, c in enumerate(customers)}
        removed: set[int] = set()
        for tenant, change in by_tenant.items():
            at = index.get(tenant.lower())
            if change is None:
                if at is not None:
                    removed.add(at)
            elif at is None:
                customers.append({"tenant_id": tenant, **change})
            else:
                customers[at] = _merge_patch(customers[at], change)
        merged["customers"] = [c for i, c in enumerate(customers) if i not in removed]
    elif by_tenant is not None:
        merged["customers"] = by_tenant
    return merged


def _resolve(path: Path, depth: int = 0) -> dict[str, Any]:
    if depth > 5:
        raise ScenarioError(f"{path}: 'base' chain is deeper than 5 files")
    data = _read_json(path)
    if not isinstance(data, dict):
        raise ScenarioError(f"{path}: a scenario is a JSON object")
    if "base" in data:
        extra = set(data) - {"base", "patch", "$comment"}
        if extra:
            raise ScenarioError(f"{path}: a patch file has only 'base' and 'patch', not {extra}")
        base = _resolve((path.parent / str(data["base"])).resolve(), depth + 1)
        return _apply_patch(base, data.get("patch") or {})
    data.pop("$comment", None)
    return data


def _where(path: Any) -> str:
    return "/".join(str(p) for p in path) or "(top level)"


def parse_scenario(
    data: dict[str, Any], *, origin: str = "scenario", now: datetime | None = None
) -> Scenario:
    """Validate a scenario document (schema, then the model's own checks). A document proven
    to conform (:mod:`standin.scenario.conforms`) is not walked by ``jsonschema`` as well."""
    if not conforms(scenario_schema(), data):
        validator = jsonschema.Draft202012Validator(scenario_schema())
        error = jsonschema.exceptions.best_match(validator.iter_errors(data))
        if error is not None:
            raise ScenarioError(f"{origin}: {_where(error.absolute_path)}: {error.message}")
    # Relative times resolve against the start of the day, so that loading the same world
    # twice in a day yields identical records (guarantee idempotent-sync).
    clock = now or datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    fixed = data.get("now")
    if isinstance(fixed, str):
        try:
            clock = datetime.fromisoformat(fixed.replace("Z", "+00:00"))
        except ValueError:
            raise ScenarioError(f"{origin}: now: not an ISO 8601 date-time") from None
    try:
        return Scenario.model_validate(data, context={"now": clock})
    except ValidationError as exc:
        first = exc.errors()[0]
        loc, msg = tuple(first["loc"]), first["msg"].removeprefix("Value error, ")
        cause = (first.get("ctx") or {}).get("error")
        if isinstance(cause, PlacedError):  # a document-level check that knows the place
            loc, msg = (*loc, *cause.path), str(cause)
        raise ScenarioError(f"{origin}: {_where(loc)}: {msg}") from None


def load_scenario(path: str | Path, *, now: datetime | None = None) -> Scenario:
    """Load, patch-resolve and validate a scenario file."""
    resolved = Path(path).expanduser().resolve()
    return parse_scenario(_resolve(resolved), origin=str(path), now=now)
