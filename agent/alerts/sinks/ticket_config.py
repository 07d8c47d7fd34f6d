"""What every PSA ticket sink's config shares: one ticket per finding or per customer, the API's
base URL (checked as guarantee safe-urls demands, since the credentials travel with every
request to it), and credentials given inline, in a file, or in an environment variable.

A credential ``NAME`` is given exactly one way: ``NAME = "…"`` in the file, ``NAME_file`` (a
path: a mounted secret, a systemd credential) or ``NAME_env`` (the name of an environment
variable). Either way it is read once, when the config loads, into a ``SecretStr``; a problem
names the key and the file or variable, never the value.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal, TypeVar

from pydantic import AfterValidator, Field, ValidationInfo, field_validator, model_validator

from agent.alerts.settings import check_destination
from agent.alerts.sinks.config import ApiSinkBase

_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
T = TypeVar("T")


def _tenant_keys(value: dict[str, T]) -> dict[str, T]:
    bad = [key for key in value if not _GUID.match(key)]
    if bad:
        raise ValueError(f"expected customer tenant ids (GUIDs) as keys, not {bad[0]!r}")
    return {key.lower(): found for key, found in value.items()}


ByTenant = Annotated[dict[str, T], AfterValidator(_tenant_keys)]
"""A mapping from customer tenant id (a GUID, any case) to a PSA record of that customer."""


def read_credentials(data: Any, names: tuple[str, ...]) -> Any:
    """``data`` (a sink's raw config) with each credential in ``names`` read from its
    ``_file`` or ``_env`` source into the key itself; the source keys stay, to show where
    it came from."""
    if not isinstance(data, dict):
        return data
    found = dict(data)
    for name in names:
        file, env = found.get(f"{name}_file"), found.get(f"{name}_env")
        given = [k for k, v in ((name, found.get(name)), (f"{name}_file", file)) if v]
        given += [f"{name}_env"] if env else []
        if len(given) > 1:
            raise ValueError(f"{name}: give one of {', '.join(given)}, not several")
        if file:
            found[name] = _from_file(name, Path(str(file)))
        elif env:
            found[name] = _from_env(name, str(env))
    return found


def _from_file(name: str, path: Path) -> str:
    try:
        text = path.expanduser().read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ValueError(f"{name}_file: cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ValueError(f"{name}_file: {path} is not UTF-8 text") from None
    if not text:
        raise ValueError(f"{name}_file: {path} is empty: expected the {name} in it")
    return text


def _from_env(name: str, variable: str) -> str:
    text = os.environ.get(variable, "").strip()
    if not text:
        raise ValueError(f"{name}_env: the environment variable {variable} is not set or empty")
    return text


class TicketSinkBase(ApiSinkBase):
    """A PSA sink: tickets per finding or per customer, closed on resolve."""

    CREDENTIALS: ClassVar[tuple[str, ...]] = ()
    """The credential keys of this PSA, each also accepted as ``_file`` and ``_env``."""
    lists_every_finding: ClassVar[bool] = True

    # After allow_private (in the base): a field validator sees only the fields before it.
    url: str = Field(description="The PSA's API base URL (https).")
    group_by: Literal["finding", "customer"] = Field(
        default="finding",
        description="One ticket per finding, or one per customer holding all its findings.",
    )

    @property
    def endpoint(self) -> str:
        return self.url

    @field_validator("url")
    @classmethod
    def _safe_url(cls, value: str, info: ValidationInfo) -> str:
        check_destination(value, info)
        if "?" in value or "#" in value:
            raise ValueError("expected a base URL without a query")
        return value.rstrip("/")

    @model_validator(mode="before")
    @classmethod
    def _credentials_from_sources(cls, data: Any) -> Any:
        return read_credentials(data, cls.CREDENTIALS)
