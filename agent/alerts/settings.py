"""What every alerting settings model is built from: a strict, frozen pydantic model that never
repeats a refused value in its error, the severity names, and the check of a destination URL at
load time (guarantee safe-urls), with the DNS seam tests use."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationInfo

from agent.alerts.urls import Resolver, UnsafeUrl, check_url, system_resolver

SEVERITIES: tuple[str, ...] = ("critical", "high", "medium", "low", "info")
"""Most to least severe; the same names as ``agent.audit.model.Severity`` (a test checks)."""

SeverityName = Literal["critical", "high", "medium", "low", "info"]


def severity_rank(name: str) -> int:
    """0 for critical … 4 for info; unknown names rank as info."""
    return SEVERITIES.index(name) if name in SEVERITIES else len(SEVERITIES) - 1


def resolver_of(info: ValidationInfo) -> Resolver:
    """The DNS seam: tests pass ``context={"resolve": fn}`` to ``model_validate``."""
    context = info.context if isinstance(info.context, dict) else {}
    resolve = context.get("resolve")
    return resolve if callable(resolve) else system_resolver


def check_destination(url: str, info: ValidationInfo) -> None:
    """guarantee safe-urls at load time for a field that follows ``allow_private`` in its model."""
    try:
        check_url(
            url,
            allow_private=bool(info.data.get("allow_private", False)),
            resolve=resolver_of(info),
        )
    except UnsafeUrl as exc:  # the message never contains the URL itself (guarantee no-secrets-out)
        raise ValueError(str(exc)) from None


class StrictModel(BaseModel):
    # hide_input_in_errors: a refused webhook URL or secret must not reappear in the message.
    model_config = ConfigDict(
        extra="forbid", frozen=True, validate_default=True, hide_input_in_errors=True
    )
