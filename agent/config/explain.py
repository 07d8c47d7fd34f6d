"""A validation error as one line: the dotted key, the environment variable that would set it,
and what was expected, without echoing a secret's value."""

from __future__ import annotations

import re
from typing import Any

from pydantic import SecretStr

from agent.config.settings import ENV_PREFIX

_SECRET_KEYS = frozenset(
    {
        "client_secret",
        "certificate_password",
        "heartbeat_url",
        "url",
        "secret",
        "previous_secret",
        "password",
        "routing_key",
        "api_key",
        "token",
    }
)
"""Keys whose given value must not appear in an error message (``store.url`` may carry a
password)."""


def explain(error: dict[str, Any]) -> str:
    kind = error.get("type", "")
    msg = str(error.get("msg", "invalid value"))
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "required key is missing"
    msg = msg.removeprefix("Value error, ")
    value = error.get("input")
    shown = ""
    loc = tuple(error.get("loc", ()))
    if loc and str(loc[-1]) in _SECRET_KEYS:
        return msg  # never echo what was given for a secret
    if isinstance(value, str | int | float | bool) and not isinstance(value, SecretStr):
        text = str(value)
        shown = f" (got {text[:60]!r})" if len(text) < 200 and text not in msg else ""
    return f"{msg}{shown}"


def dotted_key(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts[-1:] = [f"{parts[-1]}[{item}]"] if parts else [f"[{item}]"]
        elif str(item).startswith("function-") or item in ("lax-or-strict", "json-or-python"):
            continue
        else:
            parts.append(str(item))
    return ".".join(parts) or "(top level)"


def env_name(key: str) -> str:
    return ENV_PREFIX + re.sub(r"\[\d+\]", "", key).replace(".", "__").upper()
