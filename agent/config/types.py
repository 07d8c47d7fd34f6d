"""The value types the config sections share: GUIDs, partner IDs, link kinds, durations, the
strict section base, and a secret given inline or in a ``*_file``."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr

_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_PARTNER_ID = re.compile(r"^[0-9]{6,10}$")


def guid(value: str) -> str:
    if not _GUID.match(value):
        raise ValueError("expected a GUID like 00000000-0000-0000-0000-000000000000")
    return value.lower()


def _partner_id(value: str) -> str:
    if not _PARTNER_ID.match(value):
        raise ValueError("expected a partner ID (MPN ID) of 6 to 10 digits")
    return value


Guid = Annotated[str, AfterValidator(guid)]
PartnerId = Annotated[str, AfterValidator(_partner_id)]
LinkKindName = Literal["csp", "indirect_reseller", "gdap", "pal", "dpor", "cpor"]
ALL_LINK_KINDS: tuple[LinkKindName, ...] = (
    "pal",
    "cpor",
    "dpor",
    "csp",
    "indirect_reseller",
    "gdap",
)


Duration = Annotated[timedelta, Field(json_schema_extra={"type": "string"})]


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)


def read_secret(value: SecretStr | None, file: Path | None, where: str) -> SecretStr | None:
    if value is not None and file is not None:
        raise ValueError(f"give {where} or {where}_file, not both")
    if file is not None:
        try:
            text = file.expanduser().read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ValueError(f"cannot read {where}_file {file}: {exc.strerror}") from None
        if not text:
            raise ValueError(f"{where}_file {file} is empty: expected the secret in it")
        return SecretStr(text)
    return value
