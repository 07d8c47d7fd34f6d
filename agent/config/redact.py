"""The settings fit to show: every secret and a database URL's password replaced by stars."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from pydantic import BaseModel, SecretStr

from agent.durations import format_duration


def mask_url(url: str) -> str:
    """A database URL with its password (if any) replaced by ``**********``."""
    return re.sub(r"://([^:/@]*):[^@]*@", r"://\1:**********@", url)


def redacted(settings: BaseModel) -> dict[str, Any]:
    """The effective settings as plain data, every secret replaced by ``**********``."""
    data: dict[str, Any] = settings.model_dump(mode="json")

    def scrub(node: Any, model: Any) -> Any:
        if isinstance(model, BaseModel):
            out = {}
            for name, value in node.items():
                attr = getattr(model, name, None)
                if isinstance(attr, SecretStr):
                    out[name] = "**********" if attr.get_secret_value() else ""
                elif isinstance(attr, timedelta):
                    out[name] = format_duration(attr)
                else:
                    out[name] = scrub(value, attr)
            return out
        if isinstance(model, list):
            return [scrub(n, m) for n, m in zip(node, model, strict=False)]
        return node

    result: dict[str, Any] = scrub(data, settings)
    url = result.get("store", {}).get("url", "")
    if url:
        result["store"]["url"] = mask_url(url)
    return result
