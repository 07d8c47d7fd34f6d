"""What the daemon does once when it starts: says how readable the estate is (the readiness
check, logged as one summary and one line per cause), and decides whether the last complete
cycle is too old to wait for the next fire time."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import structlog

from agent.readiness.estate import ReadinessUnavailable, check_readiness
from agent.readiness.present import cause_lines, verdict

if TYPE_CHECKING:
    from agent.app import Agent

log = structlog.get_logger("partnerlink.daemon")


def catch_up_reason(
    last_complete: datetime | None, now: datetime, interval: timedelta
) -> str | None:
    """Why a cycle should run at once: no complete cycle yet, or the last one started longer
    ago than the schedule's interval; ``None``: the schedule will do."""
    if last_complete is None:
        return "no complete cycle yet"
    age = now - last_complete
    if age > interval:
        return (
            f"the last complete cycle started {_span(age)} ago, more than the "
            f"{_span(interval)} between scheduled cycles"
        )
    return None


def _span(delta: timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours / 24:.1f} days" if hours >= 48 else f"{hours:.1f} hours"


def log_readiness(agent: Agent) -> bool | None:
    """Check readiness and log what it found; ``None`` when it cannot be checked (the fake
    sources) or the check itself failed, else whether it holds the floor."""
    try:
        found = check_readiness(agent)
    except ReadinessUnavailable as exc:
        log.info("readiness_skipped", reason=str(exc))
        return None
    except Exception as exc:  # the daemon starts anyway; the cycles say what they can read
        log.error("readiness_failed", error_type=type(exc).__name__)
        return None
    figures = {f: found.coverage.percent(f) for f in ("customers", "azure_subscriptions", "seats")}
    event = log.info if found.ok else log.warning
    event(
        "readiness_checked",
        summary=found.coverage.line(),
        verdict=verdict(found),
        customers=len(found.customers),
        not_readable=sum(not c.readable for c in found.customers),
        **{f"{figure}_percent": value for figure, value in figures.items()},
    )
    for line in cause_lines(found):
        log.warning("readiness_cause", cause=line)
    for check in found.partner:
        if not check.state.reads:
            log.warning(
                "readiness_partner",
                reader=check.reader,
                state=check.state.value,
                why=check.words,
                code=check.code,
            )
    return found.ok
