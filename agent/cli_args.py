"""The command line's filter values, customers and dates: one place that refuses what it does not
know, lists what it does, and turns a customer's name into its tenant ID.

Every refusal is an :class:`ArgError`: one line naming the option, exit code 2.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime

from agent.durations import parse_duration
from connectors.text import visible

_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")

Names = Callable[[], Sequence[tuple[str, str]]]
"""(tenant id, name) of every customer known by name; asked only when a name is given."""


class ArgError(ValueError):
    """A command-line value that cannot be used (exit code 2)."""


def choices(option: str, given: Sequence[str] | None, known: Iterable[str]) -> list[str] | None:
    """``given`` (case-insensitive) when every value is known; None when nothing is given."""
    if not given:
        return None
    allowed = list(known)
    chosen: list[str] = []
    for value in given:
        name = value.strip().lower()
        if name not in allowed:
            raise ArgError(
                f"{option}: unknown value {value!r}; expected one of {', '.join(allowed)}"
            )
        chosen.append(name)
    return chosen


def rule_ids() -> list[str]:
    from agent.audit.rules import RULES_BY_ID

    return sorted(RULES_BY_ID)


def finding_statuses() -> list[str]:
    from agent.store.models import FindingStatus

    return [status.value for status in FindingStatus]


def severities() -> list[str]:
    from agent.alerts.settings import SEVERITIES

    return list(SEVERITIES)


def customers(option: str, given: Sequence[str] | None, names: Names) -> list[str] | None:
    """Tenant IDs for ``given``: each a tenant ID, or a customer's name (exact, any case)."""
    if not given:
        return None
    known: Sequence[tuple[str, str]] | None = None
    tenants: list[str] = []
    for value in given:
        text = value.strip()
        if _GUID.match(text):
            tenants.append(text.lower())
            continue
        known = names() if known is None else known
        tenants.append(_by_name(option, text, known))
    return tenants


def customer(option: str, value: str, names: Names) -> str:
    """The tenant ID of one customer given by tenant ID or name."""
    [tenant] = customers(option, [value], names) or [value]
    return tenant


def _fold(text: str) -> str:
    return unicodedata.normalize("NFC", text).strip().casefold()


def _by_name(option: str, name: str, known: Sequence[tuple[str, str]]) -> str:
    wanted = _fold(name)
    matches = sorted({(tenant, n) for tenant, n in known if _fold(n) == wanted})
    if not matches:
        raise ArgError(
            f"{option}: no customer with the tenant ID or name {name!r} (a name must match in full)"
        )
    if len({tenant for tenant, _ in matches}) > 1:
        listed = "; ".join(f"{visible(n)} ({tenant})" for tenant, n in matches[:10])
        raise ArgError(
            f"{option}: {name!r} names {len(matches)} customers: {listed}; give the tenant ID"
        )
    return matches[0][0]


def until(text: str, now: datetime) -> datetime:
    """The end of a snooze: a date or time (UTC unless it says otherwise) or a duration from
    now; it must lie in the future."""
    try:
        length = parse_duration(text)
    except ValueError:
        pass
    else:
        if length.total_seconds() <= 0:
            raise ArgError(f"--until: expected a duration longer than nothing, got {text!r}")
        return now + length
    try:
        end = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ArgError(
            f"--until: expected a date (2026-12-31) or a duration (7d), got {text!r}"
        ) from None
    end = end if end.tzinfo else end.replace(tzinfo=UTC)
    if end <= now:
        raise ArgError(
            f"--until: {text!r} is in the past (now is "
            f"{now.astimezone(UTC):%Y-%m-%d %H:%M} UTC): expected a later date"
        )
    return end
