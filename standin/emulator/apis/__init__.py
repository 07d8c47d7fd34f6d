"""The emulator's Microsoft APIs, one module each, and ``ROUTES``: their routes in match order.

The request pipeline every route goes through (authentication, throttling, faults) is
:mod:`standin.emulator.service`; each API module keeps its endpoints, its guard and its paging.
"""

from __future__ import annotations

from standin.emulator.apis import (
    arm,
    downloads,
    graph,
    graph_consent,
    insights,
    login,
    partner_center,
    pc_consent,
    role_assignments,
)
from standin.emulator.routing import Route
from standin.emulator.service import Service

ROUTES: tuple[Route[Service], ...] = (
    *login.ROUTES.routes,
    *partner_center.ROUTES.routes,
    *pc_consent.ROUTES.routes,
    *insights.ROUTES.routes,
    *graph.ROUTES.routes,
    *graph_consent.ROUTES.routes,
    *arm.ROUTES.routes,
    *role_assignments.ROUTES.routes,
    *downloads.ROUTES.routes,
)
"""Every endpoint; the first whose pattern and method match a request answers it."""
