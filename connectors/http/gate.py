"""The throttling gate: a 429's ``Retry-After`` pauses its whole scope, and ARM calls are spaced
when the remaining budget its answers report runs low.

Rates per scope (the documented limits) are :mod:`connectors.ratelimit`'s job; the gate holds
only what Microsoft told us about one scope.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

import structlog

from connectors.http.answer import AnswerHeaders
from connectors.timing import Clock, Sleep

__all__ = ["DEFAULT_BUDGET", "BudgetSpacing", "ScopeGate", "remaining_budget"]

log = structlog.get_logger()


@dataclass
class _ScopeState:
    blocked_until: float = 0.0
    spacing: float = 0.0
    last_start: float = float("-inf")


class ScopeGate:
    """Admission per throttling scope (``pc:<partner tenant>``, ``graph:<tenant>``,
    ``arm:<tenant>/<identity>`` ...).

    ``block`` pauses every request of one scope (a 429 with ``Retry-After``, guarantee retry-after)
    without touching other scopes; ``set_spacing`` enforces a minimum interval between request
    starts of one scope (ARM budget running low, guarantee arm-budget). Rates per scope are
    :class:`connectors.ratelimit.MicrosoftLimits`' job.

    Only scopes that are paused or spaced have a state here: a sync of 20,000 customers touches
    100,000 scopes, and remembering each one's last start would grow with the estate.
    """

    def __init__(self, *, clock: Clock = time.monotonic, sleep: Sleep = asyncio.sleep) -> None:
        self._clock = clock
        self._sleep = sleep
        self._scopes: dict[str, _ScopeState] = {}

    def __len__(self) -> int:
        return len(self._scopes)

    def _state(self, scope: str) -> _ScopeState:
        state = self._scopes.get(scope)
        if state is None:
            state = self._scopes[scope] = _ScopeState()
        return state

    def block(self, scope: str, seconds: float) -> None:
        """No request of ``scope`` starts for ``seconds`` from now (extends, never shortens)."""
        until = self._clock() + max(0.0, seconds)
        state = self._state(scope)
        if until > state.blocked_until:
            state.blocked_until = until
            log.info("http_scope_paused", scope=scope, seconds=round(seconds, 3))

    def set_spacing(self, scope: str, seconds: float) -> None:
        """Minimum time between two request starts of ``scope``; 0 lifts it."""
        seconds = max(0.0, seconds)
        state = self._scopes.get(scope)
        if state is None:
            if seconds == 0.0:
                return  # nothing to lift
            state = self._state(scope)
            state.last_start = self._clock()  # the request that reported the budget just ran
        if abs(seconds - state.spacing) > 1e-9:
            log.info("http_scope_spacing", scope=scope, seconds=round(seconds, 3))
        state.spacing = seconds  # counted from the last start, so it applies to the next one
        self._forget_if_idle(scope, state, self._clock())

    def earliest(self, scope: str) -> float:
        """Clock time at which the next request of ``scope`` may start."""
        state = self._scopes.get(scope)
        if state is None:
            return float("-inf")
        return max(state.blocked_until, state.last_start + state.spacing)

    def delay(self, scope: str) -> float:
        """How long a request of ``scope`` would wait if it asked now."""
        return max(0.0, self.earliest(scope) - self._clock())

    def paused(self, scope: str) -> bool:
        """Whether ``scope`` is paused (a 429's ``Retry-After``), not merely spaced."""
        state = self._scopes.get(scope)
        return state is not None and state.blocked_until > self._clock()

    async def acquire(self, scope: str) -> None:
        """Wait until a request of ``scope`` may start, and take its slot."""
        while True:
            now = self._clock()
            start = self.earliest(scope)
            if start <= now:
                state = self._scopes.get(scope)
                if state is not None:
                    state.last_start = now
                    self._forget_if_idle(scope, state, now)
                return
            await self._sleep(start - now)

    def _forget_if_idle(self, scope: str, state: _ScopeState, now: float) -> None:
        """A scope neither paused nor spaced needs no state (its last start no longer
        matters: a spacing set later counts from the next start)."""
        if state.spacing == 0.0 and state.blocked_until <= now:
            self._scopes.pop(scope, None)


@dataclass(frozen=True, slots=True)
class BudgetSpacing:
    """Spacing of a scope from ARM's ``x-ms-ratelimit-remaining-*`` headers (guarantee arm-budget).

    Below ``threshold`` remaining requests the interval between calls grows linearly up to
    ``max_spacing`` at zero remaining; at or above it the spacing is lifted.
    """

    threshold: int = 50
    max_spacing: float = 1.0

    def spacing(self, remaining: int) -> float:
        if remaining >= self.threshold:
            return 0.0
        return self.max_spacing * (self.threshold - max(remaining, 0)) / self.threshold


DEFAULT_BUDGET = BudgetSpacing()


_RATELIMIT_PREFIX = b"x-ms-ratelimit-remaining-"


def remaining_budget(method: str, headers: AnswerHeaders) -> int | None:
    """The smallest remaining ARM budget relevant to ``method``, if the answer reports one."""
    wanted = {"DELETE": (b"deletes",)}.get(
        method, (b"reads", b"resource-requests") if method in ("GET", "HEAD") else (b"writes",)
    )
    values: list[int] = []
    for name, value in headers.raw:  # bytes: most answers carry none, and none is decoded
        if len(name) <= len(_RATELIMIT_PREFIX):
            continue
        lowered = name.lower()
        if not lowered.startswith(_RATELIMIT_PREFIX):
            continue
        if not any(lowered.endswith(suffix) for suffix in wanted):
            continue
        try:
            values.append(int(value.strip()))
        except ValueError:
            continue
    return min(values) if values else None
