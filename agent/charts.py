"""The report's coverage charts: inline SVG, a share (0-100 %) over the audited runs, on a
time axis with dates. One run is no line: the chart says "one run so far" with its figure and
date instead of drawing a lone dot; no run says so too. Labels are the agent's own words; the
one value from outside (a run's time) is formatted by the agent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

WIDTH, HEIGHT, PAD_LEFT, PAD, PAD_BOTTOM = 340, 150, 34, 12, 28


@dataclass(frozen=True, slots=True)
class Chart:
    key: str
    label: str
    colour: str
    latest: str
    """The newest figure ("42 %") or "no data"."""
    note: str
    """What stands in for the line when there is none: "one run so far ..." or ""."""
    svg: str
    """The SVG markup, built here from numbers and dates only (no outside text)."""


def line_chart(history: list[dict[str, Any]], key: str, label: str, colour: str) -> Chart:
    points = [
        (datetime.fromisoformat(h["at"]), float(h[key]))
        for h in history
        if isinstance(h.get(key), int | float)
    ]
    latest = f"{points[-1][1] * 100:.0f} %" if points else "no data"
    if len(points) < 2:
        note = (
            f"one run so far: {latest} on {points[0][0]:%Y-%m-%d}; the line starts with the next"
            if points
            else "no audited run has measured this yet"
        )
        return Chart(key, label, colour, latest, note, "")
    return Chart(key, label, colour, latest, "", _svg(points, label, colour))


def _svg(points: list[tuple[datetime, float]], label: str, colour: str) -> str:
    start, end = points[0][0], points[-1][0]
    span = max((end - start).total_seconds(), 1.0)
    inner_w, inner_h = WIDTH - PAD_LEFT - PAD, HEIGHT - PAD - PAD_BOTTOM

    def x(at: datetime) -> float:
        return PAD_LEFT + inner_w * (at - start).total_seconds() / span

    def y(v: float) -> float:
        return PAD + inner_h * (1 - max(0.0, min(v, 1.0)))

    grid = "".join(
        f'<line x1="{PAD_LEFT}" x2="{WIDTH - PAD}" y1="{y(g):.1f}" y2="{y(g):.1f}" class="grid"/>'
        f'<text x="{PAD_LEFT - 4}" y="{y(g) + 3:.1f}" class="axis" text-anchor="end">'
        f"{int(g * 100)}%</text>"
        for g in (0.0, 0.5, 1.0)
    )
    ticks = _ticks(start, end)
    fmt = "%Y-%m-%d" if (end - start).days >= 2 else "%m-%d %H:%M"
    axis = "".join(
        f'<line x1="{x(t):.1f}" x2="{x(t):.1f}" y1="{HEIGHT - PAD_BOTTOM}" '
        f'y2="{HEIGHT - PAD_BOTTOM + 4}" class="grid"/>'
        f'<text x="{x(t):.1f}" y="{HEIGHT - PAD_BOTTOM + 15}" class="axis" '
        f'text-anchor="{anchor}">{t.strftime(fmt)}</text>'
        for t, anchor in ticks
    )
    path = " ".join(
        f"{'M' if n == 0 else 'L'}{x(at):.1f},{y(v):.1f}" for n, (at, v) in enumerate(points)
    )
    dots = "".join(
        f'<circle cx="{x(at):.1f}" cy="{y(v):.1f}" r="2.5" fill="{colour}">'
        f"<title>{at:%Y-%m-%d %H:%M} UTC: {v * 100:.1f} %</title></circle>"
        for at, v in points
    )
    return (
        f'<svg role="img" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
        f'xmlns="http://www.w3.org/2000/svg">{grid}{axis}'
        f'<path d="{path}" fill="none" stroke="{colour}" stroke-width="2"/>{dots}</svg>'
    )


def _ticks(start: datetime, end: datetime) -> list[tuple[datetime, str]]:
    """The first and the last run's dates, and the middle one when the span is long enough
    for three labels to stand apart."""
    ticks = [(start, "start"), (end, "end")]
    if (end - start).days >= 2:
        ticks.insert(1, (start + (end - start) / 2, "middle"))
    return ticks
