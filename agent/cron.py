"""Five-field crontab expressions, read the way the daemon's scheduler (APScheduler 3) reads them.

One translation serves both the daemon and the config check, so ``check`` refuses exactly the
expressions ``run`` could not schedule, instead of ``run`` dying on one ``check`` let through.
"""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WEEKDAY_NUMBER = re.compile(r"(?<![/\d])\d+")
"""A weekday number: not the step of ``*/2`` (which stays a number)."""


def _weekday(match: re.Match[str]) -> str:
    number = int(match.group(0))
    if number >= len(_DAYS):
        raise ValueError(f"expected days of the week 0-7 or sun-sat, not {number}")
    return _DAYS[number]


def cron_fields(expr: str) -> dict[str, str]:
    """Crontab fields for APScheduler 3, whose weekday numbers start at Monday (0) where
    crontab's start at Sunday: numbers become names, which both read alike."""
    parts = expr.split()
    if len(parts) != 5:
        raise ValueError('expected five cron fields, e.g. "0 2 * * *"')
    minute, hour, day, month, dow = parts
    dow = _WEEKDAY_NUMBER.sub(_weekday, dow)
    return {"minute": minute, "hour": hour, "day": day, "month": month, "day_of_week": dow}


def check_cron(expr: str, timezone: str, now: datetime) -> None:
    """Raise ``ValueError`` (one line) unless the scheduler accepts ``expr`` and it ever fires.

    The expression goes through APScheduler's own parser (``CronTrigger.from_crontab``), after
    the weekday translation the daemon applies."""
    fields = cron_fields(expr)
    crontab = " ".join(fields[name] for name in ("minute", "hour", "day", "month", "day_of_week"))
    try:
        trigger = CronTrigger.from_crontab(crontab, timezone=ZoneInfo(timezone))
    except ValueError as exc:
        reason = str(exc).replace("Error validating expression", "field").splitlines()[0]
        raise ValueError(
            f'expected a cron the scheduler accepts, e.g. "0 2 * * *" ({reason})'
        ) from None
    if trigger.get_next_fire_time(None, now) is None:
        raise ValueError("expected a cron that fires: this one names no date that exists")
