"""What every part of the scenario is made of: ids, partner IDs, times (absolute or relative to
the scenario's clock) and the strict, frozen models that refuse unknown keys."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

GUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
PARTNER_ID_PATTERN = r"^[0-9]{6,10}$"
RELATIVE_TIME = re.compile(r"^([+-])(\d+)([dhm])$")

Guid = Annotated[str, Field(pattern=GUID_PATTERN)]
PartnerId = Annotated[str, Field(pattern=PARTNER_ID_PATTERN)]
TimeSpec = Annotated[
    datetime,
    Field(
        description='ISO 8601 date-time with zone, or relative to "now": "+20d", "-400d", "+6h".',
        json_schema_extra={"type": "string"},
    ),
]


class PlacedError(ValueError):
    """A document-level check that knows where in the document the problem is, so that the
    loader can name the JSON path instead of the top level."""

    def __init__(self, path: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.path = path


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def resolve_time(value: object, now: datetime) -> object:
    """Turn ``"+20d"`` and friends into absolute UTC datetimes; leave anything else alone."""
    if isinstance(value, str):
        match = RELATIVE_TIME.match(value.strip())
        if match:
            sign, amount, unit = match.groups()
            unit_name = {"d": "days", "h": "hours", "m": "minutes"}[unit]
            delta = timedelta(**{unit_name: int(amount)})
            return now + delta if sign == "+" else now - delta
    return value


class _Timed(_Strict):
    """Models with :data:`TimeSpec` fields resolve relative times against the load context."""

    @field_validator("*", mode="before")
    @classmethod
    def _relative_times(cls, value: object, info: ValidationInfo) -> object:
        now = (info.context or {}).get("now")
        if now is None or not _holds_time(cls, info.field_name or ""):
            return value
        return resolve_time(value, now)

    @field_validator("*", mode="after")
    @classmethod
    def _aware(cls, value: object) -> object:
        if isinstance(value, datetime) and value.tzinfo is None:
            raise ValueError("date-times need a zone (e.g. a trailing Z)")
        return value


_TIME_FIELDS: dict[tuple[type[BaseModel], str], bool] = {}


def _holds_time(model: type[BaseModel], name: str) -> bool:
    """Whether a model's field holds a date-time (its annotation's text, read once per field:
    a large scenario asks for every field of every object)."""
    key = (model, name)
    found = _TIME_FIELDS.get(key)
    if found is None:
        field = model.model_fields.get(name)
        found = _TIME_FIELDS[key] = field is not None and "datetime" in str(field.annotation)
    return found
