"""The two time seams of everything in the connectors that waits: a clock to read and a sleep to
wait on, passed in so that tests and benchmarks run on a virtual clock.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

Clock = Callable[[], float]
"""Seconds on a monotonic clock (``time.monotonic`` unless a test passes its own)."""
Sleep = Callable[[float], Awaitable[None]]
"""Waits that many seconds (``asyncio.sleep`` unless a test passes its own)."""
