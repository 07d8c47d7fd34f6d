"""Which endpoint answers a request: the call it is handed, and each API's table of routes.

Every API module keeps its own :class:`RouteTable`; ``standin.emulator.apis`` joins them in the
order they are matched. The path alone decides which API's error shapes a request gets.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
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


_LITERAL = re.compile(r"\^/((?:[A-Za-z0-9_-]|\\\.)+)(?=/|\$)")
_ALTERNATIVES = re.compile(r"\^/\(\?:((?:[A-Za-z0-9_|-]|\\\.)+)\)(?=/|\$)")


def first_segments(pattern: str) -> frozenset[str] | None:
    """The first path segments a route's pattern can match, lower-cased, when it spells them
    out (``^/v1/...``, ``^/(?:v1\\.0|beta)/...``); ``None`` when it matches any."""
    found = _LITERAL.match(pattern)
    if found is not None:
        return frozenset({found[1].replace("\\.", ".").lower()})
    found = _ALTERNATIVES.match(pattern)
    if found is not None:
        return frozenset(alt.replace("\\.", ".").lower() for alt in found[1].split("|"))
    return None


class RouteIndex(Generic[S]):
    """Routes in match order, each filed under the first path segments it spells out, so that a
    request tries only those that could match it: the same first match as trying them all."""

    def __init__(self, routes: Sequence[Route[S]]) -> None:
        self.routes = tuple(routes)
        spelled = [first_segments(r.pattern.pattern) for r in self.routes]
        self._any = tuple(r for r, segs in zip(self.routes, spelled, strict=True) if segs is None)
        self._by_segment = {
            segment: tuple(
                r
                for r, segs in zip(self.routes, spelled, strict=True)
                if segs is None or segment in segs
            )
            for segment in frozenset().union(*(segs for segs in spelled if segs is not None))
        }

    def candidates(self, path: str) -> tuple[Route[S], ...]:
        """The routes that could match ``path``, in match order. Patterns ignore case: a path
        beyond ASCII (whose case folding is subtler than ``lower``) or with a line break (which
        ``$`` matches before) tries them all."""
        if not path.isascii() or "\n" in path or not path.startswith("/"):
            return self.routes
        segment = path[1:].partition("/")[0].lower()
        return self._by_segment.get(segment, self._any)


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
