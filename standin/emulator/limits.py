"""Microsoft's documented throttling limits, in one table, and the limiters that enforce them.

Every number carries its source (docs/microsoft-apis.md sections). ``time_scale`` divides every
window (and multiplies every refill rate) so a benchmark can run Microsoft's limits faster.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

Algorithm = Literal["window", "bucket"]


@dataclass(frozen=True, slots=True)
class Limit:
    """One documented limit.

    ``window``: at most ``capacity`` requests (or resource units) in any sliding ``period``
    seconds. ``bucket``: a token bucket of ``capacity`` refilled by ``capacity / period`` per
    second (ARM documents the refill rate directly: capacity 250, refill 25/s -> period 10 s).
    """

    name: str
    api: str
    capacity: int
    period: float
    algorithm: Algorithm
    scope: str
    source: str

    def rate(self, time_scale: float = 1.0) -> float:
        """Sustained requests (units) per second at ``time_scale``."""
        return self.capacity / self.period * time_scale


# --- The table -------------------------------------------------------------------------------

PC_TENANT = Limit(
    "partner_center",
    "pc",
    500,
    60.0,
    "window",
    scope="partner tenant (partner-level endpoints) or partner+customer pair (per-customer)",
    source="§1.3/§1.4/§1.11: 500 requests/min per tenant identifier (PCDOC:customer-resources, "
    "subscription-resources; api-throttling-guidance: per partner or partner+customer pair)",
)
INSIGHTS_TENANT = Limit(
    "insights",
    "insights",
    500,
    60.0,
    "window",
    scope="partner tenant",
    source="§1.9/§1.11: no published number; the Partner Center 500/min per tenant is applied",
)
GRAPH_IDENTITY_S = Limit(
    "graph.identity.S",
    "graph",
    3500,
    10.0,
    "bucket",
    scope="app + tenant, tenant with < 50 users",
    source="§3.3: identity and access, 3,500 resource units / 10 s (learn:graph/throttling-limits)",
)
GRAPH_IDENTITY_M = Limit(
    "graph.identity.M",
    "graph",
    5000,
    10.0,
    "bucket",
    scope="app + tenant, tenant with 50-500 users",
    source="§3.3: 5,000 resource units / 10 s",
)
GRAPH_IDENTITY_L = Limit(
    "graph.identity.L",
    "graph",
    8000,
    10.0,
    "bucket",
    scope="app + tenant, tenant with > 500 users",
    source="§3.3: 8,000 resource units / 10 s",
)
GRAPH_IDENTITY_APP = Limit(
    "graph.identity.app",
    "graph",
    150_000,
    20.0,
    "bucket",
    scope="app, across tenants",
    source="§3.3: identity and access per app 150,000 / 20 s",
)
GRAPH_MULTI_TENANT_APP = Limit(
    "graph.multi_tenant.app",
    "graph",
    1000,
    20.0,
    "window",
    scope="app + tenant (tenantRelationships)",
    source="§3.3: multi-tenant management 1,000 requests / 20 s per app per tenant",
)
GRAPH_MULTI_TENANT = Limit(
    "graph.multi_tenant.tenant",
    "graph",
    2000,
    20.0,
    "window",
    scope="tenant (tenantRelationships)",
    source="§3.3: multi-tenant management 2,000 requests / 20 s per tenant",
)
GRAPH_REPORTS_APP = Limit(
    "graph.reports.app",
    "graph",
    14,
    600.0,
    "window",
    scope="app + tenant + report",
    source="§3.3/§4.2: CSV reports 14 requests / 10 min per app per tenant, per report API",
)
GRAPH_REPORTS_TENANT = Limit(
    "graph.reports.tenant",
    "graph",
    40,
    600.0,
    "window",
    scope="tenant + report",
    source="§3.3: CSV reports 40 requests / 10 min per tenant",
)
GRAPH_GLOBAL_APP = Limit(
    "graph.global.app",
    "graph",
    130_000,
    10.0,
    "window",
    scope="app, across tenants",
    source="§3.3: 130,000 requests / 10 s per app (2025)",
)
ARM_READS = Limit(
    "arm.reads",
    "arm",
    250,
    10.0,
    "bucket",
    scope="security principal + tenant",
    source="§5.4: reads bucket 250, refill 25/s (learn:azure-resource-manager request-limits)",
)
ARM_WRITES = Limit(
    "arm.writes",
    "arm",
    200,
    20.0,
    "bucket",
    scope="security principal + tenant",
    source="§5.4: writes bucket 200, refill 10/s",
)
ARM_DELETES = Limit(
    "arm.deletes",
    "arm",
    200,
    20.0,
    "bucket",
    scope="security principal + tenant",
    source="§5.4: deletes bucket 200, refill 10/s",
)

LIMITS: tuple[Limit, ...] = (
    PC_TENANT,
    INSIGHTS_TENANT,
    GRAPH_IDENTITY_S,
    GRAPH_IDENTITY_M,
    GRAPH_IDENTITY_L,
    GRAPH_IDENTITY_APP,
    GRAPH_MULTI_TENANT_APP,
    GRAPH_MULTI_TENANT,
    GRAPH_REPORTS_APP,
    GRAPH_REPORTS_TENANT,
    GRAPH_GLOBAL_APP,
    ARM_READS,
    ARM_WRITES,
    ARM_DELETES,
)
"""Every limit the emulator enforces. The login endpoint is not throttled (no documented
number)."""

LIMIT_BY_NAME: dict[str, Limit] = {limit.name: limit for limit in LIMITS}

GRAPH_COSTS: dict[str, int] = {"contracts": 3, "subscribedSkus": 3}
"""§3.3: resource units of a GET in the identity and access bucket; unlisted GETs cost 1."""


def graph_identity_cost(resource: str, *, select: bool, top: int | None) -> int:
    """§3.3: base cost, minus 1 with ``$select``, minus 1 with ``$top`` < 20; at least 1."""
    cost = GRAPH_COSTS.get(resource, 1)
    if select:
        cost -= 1
    if top is not None and top < 20:
        cost -= 1
    return max(1, cost)


def graph_identity_limit(users: int) -> Limit:
    """§3.3: the identity bucket by tenant size (S < 50 users, M 50-500, L > 500)."""
    if users < 50:
        return GRAPH_IDENTITY_S
    if users <= 500:
        return GRAPH_IDENTITY_M
    return GRAPH_IDENTITY_L


# --- Limiters --------------------------------------------------------------------------------


@dataclass
class _State:
    """One key's state: a sliding log (window) or a level (bucket)."""

    log: deque[tuple[float, int]] = field(default_factory=deque)
    used: int = 0
    level: float = 0.0
    stamp: float = 0.0
    requests: int = 0
    throttled: int = 0


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome of one admission: allowed or not, when to retry, what is left."""

    allowed: bool
    retry_after: float
    remaining: int


class Limiter:
    """Enforces one :class:`Limit` for many keys; thread-safe."""

    def __init__(
        self, limit: Limit, time_scale: float = 1.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.time_scale = time_scale
        self.period = limit.period / time_scale
        self._clock = clock
        self._states: dict[str, _State] = {}
        self._lock = threading.Lock()

    def admit(self, key: str, cost: int = 1, *, enforce: bool = True) -> Decision:
        """Count one request of ``cost`` units for ``key``; refuse it when over the limit."""
        now = self._clock()
        with self._lock:
            state = self._states.get(key)
            if state is None:
                state = self._states[key] = _State(level=float(self.limit.capacity), stamp=now)
            state.requests += 1
            if self.limit.algorithm == "window":
                decision = self._window(state, now, cost, enforce)
            else:
                decision = self._bucket(state, now, cost, enforce)
            if not decision.allowed:
                state.throttled += 1
            return decision

    def _window(self, state: _State, now: float, cost: int, enforce: bool) -> Decision:
        horizon = now - self.period
        while state.log and state.log[0][0] <= horizon:
            state.used -= state.log.popleft()[1]
        capacity = self.limit.capacity
        if enforce and state.used + cost > capacity:
            # The earliest moment enough of the log has aged out.
            need, freed, wait = state.used + cost - capacity, 0, self.period
            for stamp, units in state.log:
                freed += units
                if freed >= need:
                    wait = stamp + self.period - now
                    break
            return Decision(False, max(wait, 0.001), max(0, capacity - state.used))
        state.log.append((now, cost))
        state.used += cost
        return Decision(True, 0.0, max(0, capacity - state.used))

    def _bucket(self, state: _State, now: float, cost: int, enforce: bool) -> Decision:
        capacity = float(self.limit.capacity)
        refill = capacity / self.period
        state.level = min(capacity, state.level + (now - state.stamp) * refill)
        state.stamp = now
        if enforce and state.level < cost:
            return Decision(False, max((cost - state.level) / refill, 0.001), int(state.level))
        state.level = max(0.0, state.level - cost)
        return Decision(True, 0.0, int(state.level))

    def stats(self, *, detail: bool = False) -> dict[str, object]:
        """Request and 429 counts of this limit, overall, for its busiest key, and per key."""
        with self._lock:
            items = [(k, s.requests, s.throttled) for k, s in self._states.items()]
        busiest = max(items, key=lambda item: item[1], default=None)
        out: dict[str, object] = {
            "capacity": self.limit.capacity,
            "period_s": self.period,
            "rate_per_s": self.limit.rate(self.time_scale),
            "algorithm": self.limit.algorithm,
            "scope": self.limit.scope,
            "keys": len(items),
            "requests": sum(i[1] for i in items),
            "throttled": sum(i[2] for i in items),
            "busiest": {"key": busiest[0], "requests": busiest[1]} if busiest else None,
        }
        if detail:
            out["per_key"] = {k: {"requests": r, "throttled": t} for k, r, t in items}
        return out


class Limiters:
    """All limiters of one emulator, created on first use."""

    def __init__(
        self, time_scale: float = 1.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.time_scale = time_scale
        self._clock = clock
        self._limiters: dict[str, Limiter] = {}
        self._lock = threading.Lock()

    def get(self, limit: Limit) -> Limiter:
        limiter = self._limiters.get(limit.name)  # made once, then only read
        if limiter is not None:
            return limiter
        with self._lock:
            limiter = self._limiters.get(limit.name)
            if limiter is None:
                limiter = self._limiters[limit.name] = Limiter(limit, self.time_scale, self._clock)
            return limiter

    def admit(
        self, checks: list[tuple[Limit, str, int]], *, enforce: bool = True
    ) -> tuple[Decision, Limit | None, dict[str, Decision]]:
        """Admit one request against several limits; the first refusal wins.

        Every limit counts the request (a refused request still costs the caller a slot in
        Microsoft's accounting only where it was admitted, so later limits are not charged
        once one refuses). Returns the overall decision, the refusing limit, and each
        admitted limit's decision (for ``x-ms-ratelimit-remaining-*`` headers).
        """
        seen: dict[str, Decision] = {}
        for limit, key, cost in checks:
            decision = self.get(limit).admit(key, cost, enforce=enforce)
            if not decision.allowed:
                return decision, limit, seen
            seen[limit.name] = decision
        return Decision(True, 0.0, 0), None, seen

    def stats(self, *, detail: bool = False) -> dict[str, dict[str, object]]:
        with self._lock:
            limiters = dict(self._limiters)
        return {name: limiter.stats(detail=detail) for name, limiter in sorted(limiters.items())}


def retry_after_header(seconds: float, *, fractional: bool) -> str:
    """A ``Retry-After`` value: whole seconds as Partner Center and ARM send them (rounded
    up), or fractional as Graph does (``2.128``). Below one second (a scaled emulator) the
    value stays fractional so a fast benchmark is not slowed to whole seconds."""
    if fractional or seconds < 1:
        return f"{max(seconds, 0.001):.3f}"
    return str(math.ceil(seconds))


def arm_remaining_headers(path: str, seen: dict[str, Decision]) -> dict[str, str]:
    """ARM's ``x-ms-ratelimit-remaining-tenant-*`` headers for the limits a request met; the
    ManagementPartner provider also reports its resource-request budget."""
    out: dict[str, str] = {}
    for name, decision in seen.items():
        kind = name.split(".", 1)[1]
        out[f"x-ms-ratelimit-remaining-tenant-{kind}"] = str(decision.remaining)
    if "managementpartner" in path.lower():
        out["x-ms-ratelimit-remaining-tenant-resource-requests"] = str(
            min((d.remaining for d in seen.values()), default=0)
        )
    return out
