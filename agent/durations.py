"""Durations as people write them in a config file: ``"90s"``, ``"30m"``, ``"24h"``, ``"7d"``."""

from __future__ import annotations

import re
from datetime import timedelta

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*(s|m|h|d)$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(value: object) -> timedelta:
    """``"24h"``, ``"30m"``, ``"7d"``, ``"90s"`` or a number of seconds."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return timedelta(seconds=float(value))
    if isinstance(value, str):
        match = _DURATION.match(value.strip())
        if match:
            return timedelta(seconds=float(match.group(1)) * _UNITS[match.group(2)])
    raise ValueError('expected a duration such as "90s", "30m", "24h" or "7d"')


def format_duration(value: timedelta) -> str:
    """The shortest spelling ``parse_duration`` reads back: ``"4h"``, ``"90s"``, ``"7d"``."""
    seconds = value.total_seconds()
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"
