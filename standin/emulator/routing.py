"""Which endpoint answers a request: the call it is handed, and each API's table of routes.

Every API module keeps its own :class:`RouteTable`; ``standin.emulator.apis`` joins them in the
order they are matched. The path alone decides which API's error shapes a request gets.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from standin.emulator.tokens import Principal
from standin.emulator.wire import Reply, Request
from standin.emulator.world import World

S = TypeVar("S")
"""What a handler is handed besides the call: the emulator's service (``standin.emulator.service``
names it; this module does not, so the service can import its routes)."""


@dataclass
class Call:
    """One request in flight."""

    req: Request
    world: World
    api: str
    params: dict[str, str]
    principal: Principal | None = None
    identity: str | None = None
    cut: bool = False
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def tenant(self) -> str:
        assert self.principal is not None
        return self.principal.tenant_id

    def scope(self, tenant: str | None = None) -> str:
        """The fault scope of a tenant: ``partner`` or the customer tenant id."""
        tenant = (tenant or self.tenant).lower()
        return "partner" if tenant == self.world.partner_tenant else tenant


Handler = Callable[[S, Call], Reply]


@dataclass(frozen=True)
class Route(Generic[S]):
    methods: tuple[str, ...]
    pattern: re.Pattern[str]
    api: str
    handler: Handler[S]


class RouteTable(Generic[S]):
    """One API's routes, in the order they are declared (the order they are matched)."""

    def __init__(self, api: str) -> None:
        self.api = api
        self.routes: list[Route[S]] = []

    def route(self, pattern: str, *methods: str) -> Callable[[Handler[S]], Handler[S]]:
        """Register the decorated handler for ``pattern`` (case-insensitive; GET by default)."""

        def register(handler: Handler[S]) -> Handler[S]:
            self.routes.append(
                Route(methods or ("GET",), re.compile(pattern, re.IGNORECASE), self.api, handler)
            )
            return handler

        return register


def api_of(path: str) -> str:
    """Which API a path belongs to; decides the shape of its errors."""
    lowered = path.lower()
    if lowered.startswith("/_emulator/"):
        return "control"
    if lowered.startswith("/_downloads/"):
        return "download"
    if lowered.startswith("/v1/"):
        return "pc"
    if lowered.startswith("/insights/"):
        return "insights"
    if lowered.startswith(("/v1.0/", "/beta/")):
        return "graph"
    if lowered.startswith(("/subscriptions", "/providers/", "/tenants")):
        return "arm"
    return "login"
