"""The emulator's Microsoft APIs, one module each, and ``ROUTES``: their routes in match order.

The request pipeline every route goes through (authentication, throttling, faults) is
:mod:`standin.emulator.service`; each API module keeps its endpoints, its guard and its paging.
"""

from __future__ import annotations

from standin.emulator.apis import (
    arm,
    downloads,
    graph,
    insights,
    login,
    partner_center,
)
from standin.emulator.routing import Route
from standin.emulator.service import Service

ROUTES: tuple[Route[Service], ...] = (
    *login.ROUTES.routes,
    *partner_center.ROUTES.routes,
    *insights.ROUTES.routes,
    *graph.ROUTES.routes,
    *arm.ROUTES.routes,
    *downloads.ROUTES.routes,
)
"""Every endpoint; the first whose pattern and method match a request answers it."""
