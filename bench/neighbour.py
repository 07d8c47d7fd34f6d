"""The sync row again, with a CPU-bound neighbour taking one core for the whole run.

A user's host is rarely idle: the pacing must hold when another process wants a core. The
neighbour is a separate Python process spinning in a loop (it never sleeps, so the scheduler
gives it a full core's share); it starts before the emulator and the agent and stops after them.
Target: wall time <= 1.10 x the defined floor (bench/README.md).
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

from bench.harness import ScopeFloor, burst_floor
from bench.report import Report

SyncRun = Callable[..., tuple[dict[str, Any], list[ScopeFloor], dict[str, Any]]]

_SPIN = (
    "import signal, sys\nsignal.signal(signal.SIGTERM, lambda *_: sys.exit(0))\nwhile True: pass"
)


class Neighbour:
    """A process that keeps one core busy while the ``with`` block runs; ``cpu_s`` is the CPU
    time it got (so the row shows the neighbour really had its core)."""

    def __init__(self) -> None:
        self.process: subprocess.Popen[bytes] | None = None
        self.cpu_s = 0.0
        self.wall_s = 0.0
        self._started = 0.0

    def __enter__(self) -> Neighbour:
        self.process = subprocess.Popen([sys.executable, "-c", _SPIN])
        self._started = time.monotonic()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        assert self.process is not None
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.wall_s = time.monotonic() - self._started
        self.cpu_s = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime


def bench_neighbour(
    report: Report, folder: Path, args: argparse.Namespace, sync_run: SyncRun
) -> None:
    n = 2000
    print(f"\n* full sync of {n:,} customers beside a CPU-bound neighbour (one core)", flush=True)
    with Neighbour() as neighbour:
        result, scope_floors, info = sync_run(
            folder, n, time_scale=args.time_scale, latency_ms=args.latency_ms, seed=args.seed
        )
    floor = scope_floors[0]
    wall = float(result["wall_s"])
    ratio = wall / floor.floor_s
    strict, _name = burst_floor(scope_floors, info)
    report.add(
        f"sync {n:,} customers beside a neighbour: wall time",
        f"{wall:.1f} s; floor {floor.floor_s:.1f} s (ratio {ratio:.2f}), after bursts "
        f"{strict:.1f} s (ratio {wall / strict if strict else float('nan'):.2f})",
    )
    report.add(
        "  CPU (agent / emulator / neighbour)",
        f"{result['cpu_s']:.0f} s / {result['emulator_cpu_s']:.0f} s / "
        f"{neighbour.cpu_s:.0f} s of {neighbour.wall_s:.0f} s",
    )
    report.target(
        "full sync beside a CPU-bound neighbour <= 1.10 x floor",
        ratio <= 1.10,
        f"floor ratio {ratio:.2f}",
    )
