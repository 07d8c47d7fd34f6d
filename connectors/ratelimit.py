"""Client-side budgets: one limiter per Microsoft throttling scope, so a sync runs as fast as the
documented limits allow and (almost) never hears a 429.

Microsoft counts a request when it *arrives*; we only know when we sent it and when its answer
came back. A :class:`Window` therefore reserves a slot when a request leaves and stamps it with
the time its answer arrived: at any moment the server's count of a scope is at most ours. "At
most ``capacity`` units in any ``period`` seconds" is exactly the sliding window Partner Center
and Graph's multi-tenant and report limits enforce, and it is also safe for a token bucket of
``capacity`` refilled at ``capacity / period`` (ARM, Graph identity): in any span of k periods a
bucket admits at least k x capacity. So one algorithm serves every scope.

:class:`MicrosoftLimits` maps a request to the scopes Microsoft throttles it in (docs/
microsoft-apis.md §1.11, §3.3, §5.4) and waits until every one has room. The numbers are the
documented ones; ``time_scale`` divides every period, as the emulator's does, for benchmarks.
Retry-After pauses (guarantee retry-after) and ARM budget spacing (guarantee arm-budget) stay in
:class:`connectors.http.gate.ScopeGate`.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import re
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from connectors.base import PARTNER_APP
from connectors.http.request import ApiRequest
from connectors.timing import Clock, Sleep


@dataclass(frozen=True, slots=True)
class Rate:
    """One documented limit: at most ``capacity`` units in any ``period`` seconds, per key."""

    name: str
    capacity: int
    period: float
    source: str
    paces: bool = False
    """A partner-wide budget a large estate spends in full, so it sets the sync's floor: its
    requests take the next free in-flight slot first (:mod:`connectors.http.slots`)."""

    def per_second(self, time_scale: float = 1.0) -> float:
        return self.capacity / self.period * time_scale


# The table (docs/microsoft-apis.md). tests/scale checks it against the emulator's.
PC_TENANT = Rate(
    "partner_center",
    500,
    60.0,
    "§1.11: 500 requests/min per tenant identifier (partner, or partner+customer)",
)
INSIGHTS_TENANT = Rate(
    "insights", 500, 60.0, "§1.9/§1.11: no published number; Partner Center's 500/min is assumed"
)
GRAPH_GLOBAL_APP = Rate("graph.global.app", 130_000, 10.0, "§3.3: 130,000 requests / 10 s per app")
GRAPH_IDENTITY_S = Rate(
    "graph.identity.S",
    3500,
    10.0,
    "§3.3: 3,500 resource units / 10 s per app+tenant (smallest tenants; the "
    "client cannot see a tenant's size, so it assumes the smallest)",
)
GRAPH_IDENTITY_APP = Rate(
    "graph.identity.app", 150_000, 20.0, "§3.3: 150,000 resource units / 20 s per app"
)
GRAPH_MULTI_TENANT_APP = Rate(
    "graph.multi_tenant.app",
    1000,
    20.0,
    "§3.3: tenantRelationships 1,000 requests / 20 s per app per tenant",
    paces=True,
)
GRAPH_MULTI_TENANT = Rate(
    "graph.multi_tenant.tenant",
    2000,
    20.0,
    "§3.3: tenantRelationships 2,000 requests / 20 s per tenant",
)
GRAPH_REPORTS_APP = Rate(
    "graph.reports.app",
    14,
    600.0,
    "§3.3: reports 14 requests / 10 min per app per tenant, per report",
)
GRAPH_REPORTS_TENANT = Rate(
    "graph.reports.tenant", 40, 600.0, "§3.3: reports 40 requests / 10 min per tenant, per report"
)
ARM_READS = Rate("arm.reads", 250, 10.0, "§5.4: reads bucket 250, refill 25/s per principal+tenant")
ARM_WRITES = Rate("arm.writes", 200, 20.0, "§5.4: writes bucket 200, refill 10/s")
ARM_DELETES = Rate("arm.deletes", 200, 20.0, "§5.4: deletes bucket 200, refill 10/s")

RATES: tuple[Rate, ...] = (
    PC_TENANT,
    INSIGHTS_TENANT,
    GRAPH_GLOBAL_APP,
    GRAPH_IDENTITY_S,
    GRAPH_IDENTITY_APP,
    GRAPH_MULTI_TENANT_APP,
    GRAPH_MULTI_TENANT,
    GRAPH_REPORTS_APP,
    GRAPH_REPORTS_TENANT,
    ARM_READS,
    ARM_WRITES,
    ARM_DELETES,
)

GRAPH_COSTS = {"contracts": 3, "subscribedskus": 3}
"""§3.3: resource units of a GET in the identity bucket; unlisted GETs cost 1."""


@dataclass(slots=True)
class _Slot:
    units: int
    done: bool = False


@dataclass(slots=True)
class _Key:
    """One scope's sliding log: finished requests by completion time, plus those in flight."""

    finished: deque[tuple[float, int]] = field(default_factory=deque)
    finished_units: int = 0
    in_flight: int = 0
    last_used: float = 0.0


class Window:
    """At most ``capacity`` units in any ``period`` seconds, for each key; single event loop.

    ``wait`` says how long until ``cost`` more units fit (0: now; ``inf``: only when a request in
    flight completes); ``take`` reserves them; the returned slot's ``release`` stamps them.
    Keys idle for a whole period are forgotten, so memory follows the scopes in use, not the
    estate.
    """

    def __init__(self, rate: Rate, time_scale: float = 1.0, clock: Clock = time.monotonic) -> None:
        self.rate = rate
        self.capacity = rate.capacity
        self.period = rate.period / time_scale
        self._clock = clock
        self._keys: dict[str, _Key] = {}
        self._sweep_at = 0.0

    def __len__(self) -> int:
        return len(self._keys)

    def _prune(self, state: _Key, now: float) -> None:
        horizon = now - self.period
        finished = state.finished
        while finished and finished[0][0] <= horizon:
            state.finished_units -= finished.popleft()[1]

    def wait(self, key: str, cost: int = 1) -> float:
        state = self._keys.get(key)
        if state is None:
            return 0.0
        now = self._clock()
        self._prune(state, now)
        over = state.in_flight + state.finished_units + cost - self.capacity
        if over <= 0:
            return 0.0
        if over > state.finished_units:
            return math.inf  # room appears only when something in flight completes
        freed = 0
        for stamp, units in state.finished:
            freed += units
            if freed >= over:
                return max(stamp + self.period - now, 0.0)
        return math.inf  # pragma: no cover - guarded by the check above

    def take(self, key: str, cost: int = 1) -> _Slot:
        now = self._clock()
        state = self._keys.get(key)
        if state is None:
            if now >= self._sweep_at:
                self._sweep(now)
            state = self._keys[key] = _Key()
        state.in_flight += cost
        state.last_used = now
        return _Slot(cost)

    def release(self, key: str, slot: _Slot) -> None:
        """The request's answer arrived (or it failed): stamp its units now."""
        if slot.done:
            return
        slot.done = True
        now = self._clock()
        state = self._keys.get(key)
        if state is None:  # pragma: no cover - keys in flight are never swept
            return
        state.in_flight -= slot.units
        state.finished.append((now, slot.units))
        state.finished_units += slot.units
        state.last_used = now

    def _sweep(self, now: float) -> None:
        """Forget keys with nothing in flight and nothing left in their window."""
        self._sweep_at = now + self.period
        for key in [
            k
            for k, s in self._keys.items()
            if s.in_flight == 0 and s.last_used <= now - self.period
        ]:
            del self._keys[key]

    def counted(self, key: str) -> int:
        """Units the window holds for ``key`` now (in flight included)."""
        state = self._keys.get(key)
        if state is None:
            return 0
        self._prune(state, self._clock())
        return state.in_flight + state.finished_units


Check = tuple[Rate, str, int]
"""(limit, key, cost): one scope a request is counted in."""


class Ticket:
    """The slots one request holds; ``release`` when its answer arrived (idempotent)."""

    __slots__ = ("_held", "_owner", "urgent")

    def __init__(self, owner: MicrosoftLimits, held: list[tuple[Window, str, _Slot]]) -> None:
        self._owner = owner
        self._held = held
        self.urgent = any(window.rate.paces for window, _key, _slot in held)
        """Counted in a budget that paces the sync: first in line for an in-flight slot."""

    def release(self) -> None:
        held, self._held = self._held, []
        for window, key, slot in held:
            window.release(key, slot)
        if held:
            self._owner._wake()


_CUSTOMER_PATH = re.compile(r"^/v1/customers/([^/?]+)(?:/|$)", re.IGNORECASE)
_REPORT_PATH = re.compile(r"/reports/([A-Za-z0-9_.]+)", re.IGNORECASE)


class MicrosoftLimits:
    """Which throttling scopes a request is counted in, and the wait until all have room.

    Keys follow how Microsoft scopes each limit: Partner Center per partner tenant for partner
    endpoints and per partner+customer pair for ``/customers/{id}/...`` (§1.11); Graph per app,
    per app+tenant and per tenant, with the multi-tenant (GDAP) and reports families apart
    (§3.3); ARM per security principal and tenant (§5.4). Pre-authenticated downloads are not
    throttled.
    """

    def __init__(
        self,
        *,
        time_scale: float = 1.0,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        rates: Iterable[Rate] = RATES,
    ) -> None:
        if time_scale <= 0:
            raise ValueError("time_scale must be positive")
        self.time_scale = time_scale
        self._clock = clock
        self._sleep = sleep
        self.windows = {rate.name: Window(rate, time_scale, clock) for rate in rates}
        self._changed: asyncio.Event | None = None
        self.waits = 0
        self.waited = 0.0
        self.waits_by_limit: dict[str, int] = {}
        """Requests that had to wait, by the limit that held them first."""
        self._blocking = ""

    # -- classification -----------------------------------------------------------------------

    def checks(self, request: ApiRequest) -> list[Check]:
        """The (limit, key, cost) scopes ``request`` is counted in."""
        if request.pre_authenticated or request.tenant_id is None:
            return []
        family = request.scope.split(":", 1)[0]
        tenant = request.tenant_id.lower()
        path = unquote(urlsplit(request.url).path)
        method = request.method.upper()
        if family == "pc":
            match = _CUSTOMER_PATH.match(path)
            key = f"{tenant}/{match.group(1).lower()}" if match else tenant
            return [(PC_TENANT, key, 1)]
        if family == "insights":
            return [(INSIGHTS_TENANT, tenant, 1)]
        if family == "graph":
            app = request.identity or PARTNER_APP
            checks: list[Check] = [(GRAPH_GLOBAL_APP, app, 1)]
            lowered = path.lower()
            if "/tenantrelationships/" in lowered:
                checks += [
                    (GRAPH_MULTI_TENANT_APP, f"{app}/{tenant}", 1),
                    (GRAPH_MULTI_TENANT, tenant, 1),
                ]
            elif (report := _REPORT_PATH.search(path)) is not None:
                name = report.group(1).lower()
                checks += [
                    (GRAPH_REPORTS_APP, f"{app}/{tenant}/{name}", 1),
                    (GRAPH_REPORTS_TENANT, f"{tenant}/{name}", 1),
                ]
            else:
                cost = graph_cost(request.url)
                checks += [
                    (GRAPH_IDENTITY_S, f"{app}/{tenant}", cost),
                    (GRAPH_IDENTITY_APP, app, cost),
                ]
            return checks
        if family == "arm":
            rate = {"GET": ARM_READS, "HEAD": ARM_READS, "DELETE": ARM_DELETES}.get(
                method, ARM_WRITES
            )
            return [(rate, f"{request.identity or PARTNER_APP}/{tenant}", 1)]
        return []

    # -- admission ----------------------------------------------------------------------------

    def wait(self, checks: list[Check]) -> float:
        """Seconds until every scope of ``checks`` has room (``inf``: until a completion)."""
        longest = 0.0
        for rate, key, cost in checks:
            window = self.windows.get(rate.name)
            if window is not None:
                delay = window.wait(key, cost)
                if delay > longest:
                    longest = delay
                    self._blocking = rate.name
        return longest

    def take(self, checks: list[Check]) -> Ticket:
        held = []
        for rate, key, cost in checks:
            window = self.windows.get(rate.name)
            if window is not None:
                held.append((window, key, window.take(key, cost)))
        return Ticket(self, held)

    async def acquire(self, request: ApiRequest) -> Ticket:
        """Wait until ``request`` fits in every scope it is counted in; reserve it there."""
        checks = self.checks(request)
        started: float | None = None
        while True:
            delay = self.wait(checks)
            if delay <= 0:
                if started is not None:
                    self.waits += 1
                    self.waited += self._clock() - started
                return self.take(checks)
            if started is None:
                started = self._clock()
                self.waits_by_limit[self._blocking] = self.waits_by_limit.get(self._blocking, 0) + 1
            if math.isinf(delay):
                await self._completion()
            else:
                await self._sleep(delay)

    async def _completion(self) -> None:
        """Until a request in flight completes (or a second passes: never stuck)."""
        if self._changed is None:
            self._changed = asyncio.Event()
        event = self._changed
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), 1.0)

    def _wake(self) -> None:
        if self._changed is not None:
            self._changed.set()
            self._changed = None

    def keys(self) -> int:
        """Scopes currently tracked (bounded by the scopes in use, not the estate)."""
        return sum(len(w) for w in self.windows.values())


def graph_cost(url: str) -> int:
    """§3.3: the identity-bucket cost of a Graph GET: 3 for contracts and subscribedSkus, else
    1; minus 1 with ``$select``, minus 1 with ``$top`` below 20; at least 1."""
    parts = urlsplit(url)
    segments = [s for s in unquote(parts.path).lower().split("/") if s]
    resource = segments[1].split("(", 1)[0] if len(segments) > 1 else ""
    cost = GRAPH_COSTS.get(resource, 1)
    query = unquote(parts.query).lower()
    if "$select=" in query:
        cost -= 1
    top = re.search(r"\$top=(\d+)", query)
    if top is not None and int(top.group(1)) < 20:
        cost -= 1
    return max(1, cost)
