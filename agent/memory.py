"""Native memory of a long-running, threaded agent on glibc.

Python's own objects during a sync stay small (tens of megabytes, whatever the estate), but the
process's resident size used to creep up with the length of the run: glibc gives each thread
that allocates its own arena (up to eight per core), and a sync's worker threads (MSAL sign-ins,
the store's writer) leave freed memory scattered over those arenas, where it stays resident.
Two standard remedies, both no-ops off glibc:

- :func:`limit_arenas` caps the arenas at two, as ``MALLOC_ARENA_MAX=2`` does (an explicit
  ``MALLOC_ARENA_MAX`` in the environment wins);
- :class:`Trimmer` hands free memory at the top of the heaps back to the system now and then
  (``malloc_trim``), from the sync's writer and after each cycle.

And one for time: :func:`collector_paused` builds a large view without Python's cycle collector.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

M_ARENA_MAX = -8
"""mallopt(3) parameter number of M_ARENA_MAX in glibc's malloc.h."""


@cache
def _glibc() -> Any | None:
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        libc = ctypes.CDLL(name)
    except OSError:
        return None
    if not all(hasattr(libc, f) for f in ("mallopt", "malloc_trim", "gnu_get_libc_version")):
        return None  # musl and others: nothing to tune
    return libc


def limit_arenas(arenas: int = 2) -> bool:
    """Cap glibc's malloc arenas (call before threads start); whether it was applied."""
    if "MALLOC_ARENA_MAX" in os.environ:
        return False
    libc = _glibc()
    return bool(libc is not None and libc.mallopt(M_ARENA_MAX, arenas) == 1)


def trim() -> bool:
    """Return free heap memory to the system; whether any was released."""
    libc = _glibc()
    return bool(libc is not None and libc.malloc_trim(0) == 1)


class Trimmer:
    """Calls :func:`trim` at most once every ``interval`` seconds, from any thread."""

    def __init__(
        self,
        interval: float = 10.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        release: Callable[[], bool] = trim,
    ) -> None:
        self.interval = interval
        self._clock = clock
        self._release = release
        self._last = clock()
        self._lock = threading.Lock()

    def maybe(self) -> None:
        now = self._clock()
        with self._lock:
            if now - self._last < self.interval:
                return
            self._last = now
        self._release()


@contextmanager
def collector_paused() -> Iterator[None]:
    """Build a large view (the report of 20,000 customers holds millions of objects) without
    the cycle collector: each of its full collections walks every object the view holds, and
    together they took two fifths of the report's time. Reference counting still frees what
    the view drops; the collector runs again as before once the block ends."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
