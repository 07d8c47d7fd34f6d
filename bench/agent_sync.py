"""One sync of the agent, in a process of its own, against an emulator that runs elsewhere.

``python bench/agent_sync.py SPEC.json`` composes the agent exactly as the composition root does
for the live cloud (MSAL token provider, one ``httpx.AsyncClient``, ``live_connectors``, the
``Syncer``, the store) pointed at the emulator's origin, runs one sync and prints one JSON line:
wall time, the outcome and the process's peak RSS. A process per measurement keeps peak RSS
honest: it is a high-water mark of the whole process.
"""

from __future__ import annotations

import asyncio
import json
import re
import resource
import sys
import time
from collections import Counter
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from agent import logging as plog  # noqa: E402
from agent.auth import AppCredential, MsalTokenProvider, RefreshTokenStore  # noqa: E402
from agent.memory import limit_arenas  # noqa: E402
from agent.store import Store  # noqa: E402
from agent.sync import ChangeFeed, Syncer  # noqa: E402
from connectors.base import PARTNER_APP, Connector  # noqa: E402
from connectors.destinations import DownloadGuard  # noqa: E402
from connectors.endpoints import CloudEndpoints  # noqa: E402
from connectors.http.client import make_client, make_sign_in_client  # noqa: E402
from connectors.http.requester import Requester  # noqa: E402
from connectors.http.wire import Head, WireRequest  # noqa: E402
from connectors.live import live_connectors  # noqa: E402
from connectors.ratelimit import MicrosoftLimits  # noqa: E402
from connectors.records.scope import Source  # noqa: E402
from standin.emulator.hints import NativeSourceHints  # noqa: E402


def peak_rss_mb() -> float:
    """This process's own peak resident set size: ``VmHWM``, the high-water mark of its address
    space since it started this program.

    Not ``ru_maxrss``: Linux carries that over ``execve`` from the process that forked it, so a
    benchmark driver holding a 20,000-customer estate (~300 MB) would lend its own size to the
    agent it starts, whatever the agent used."""
    try:
        for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # not Linux: the best there is


_ID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


class Hints(NativeSourceHints):
    """The emulator's source hints (:mod:`standin.emulator.hints`), which the agent's own
    transport also carries below httpx (:mod:`connectors.http.fetch`). With ``count``, requests
    are counted by the shape of their path (ids replaced by ``{id}``): which source makes how
    many requests."""

    def __init__(self, inner: httpx.AsyncBaseTransport, origin: str, count: bool) -> None:
        super().__init__(inner, origin)
        self.count = count
        self.shapes: Counter[str] = Counter()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.count:
            self.shapes[f"{request.method} {_ID.sub('{id}', request.url.path)}"] += 1
        return await super().handle_async_request(request)

    async def exchange(self, wire: WireRequest) -> tuple[Head, Any]:
        if self.count:
            path = wire.target.target.decode("ascii").partition("?")[0]
            self.shapes[f"{wire.method} {_ID.sub('{id}', path)}"] += 1
        return await super().exchange(wire)


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def now() -> datetime:
    return datetime.now(UTC)


async def run(spec: dict[str, Any]) -> dict[str, Any]:
    endpoints = CloudEndpoints.single_origin(spec["base_url"])
    partner = spec["partner_tenant_id"]
    apps = {
        name: AppCredential(client_id=a["client_id"], client_secret=a["client_secret"])
        for name, a in spec["apps"].items()
    }
    carriers = {name: set(tenants) for name, tenants in spec["carrier_tenants"].items()}
    sequential = bool(spec.get("sequential"))

    def applies(connector: Connector, tenant: str) -> bool:
        # What Agent.applies does with `credentials.carriers[].tenants`.
        if connector.source is Source.ARM_PAL and connector.identity not in (None, PARTNER_APP):
            return tenant in carriers.get(connector.identity or "", set())
        return True

    with ExitStack() as stack:
        msal_http = stack.enter_context(make_sign_in_client(spec["ca_path"], 30.0))
        refresh = RefreshTokenStore(Path(spec["refresh_token_file"]))
        tokens = MsalTokenProvider(
            endpoints.authority_host,
            partner,
            apps,
            http_client=msal_http,
            refresh_token_store=refresh,
        )
        store = Store.open(spec["store_url"])
        stack.callback(store.close)
        origin = str(spec["base_url"])
        counting: list[Hints] = []

        def wrap(inner: httpx.AsyncBaseTransport) -> httpx.AsyncBaseTransport:
            # counting paths is a diagnostic: it costs CPU of its own
            counting.append(Hints(inner, origin, bool(spec.get("count_paths"))))
            return counting[-1]

        async with make_client(spec["ca_path"], 60.0, wrap=wrap) as client:
            requester = Requester(
                client,
                tokens,
                limits=MicrosoftLimits(time_scale=float(spec["time_scale"])),
                max_in_flight=1 if sequential else int(spec.get("max_in_flight", 64)),
                downloads=DownloadGuard(allow_origins=[origin]),
            )
            connectors = live_connectors(
                endpoints,
                tokens,
                client,
                partner_tenant_id=partner,
                identities={name: cred.client_id for name, cred in apps.items()},
                app_user=True,
                requester=requester,
            )
            if spec.get("sources"):  # diagnostic: read only these sources
                connectors = [c for c in connectors if c.source.value in spec["sources"]]
            feed = spec.get("feed")  # a scheduled cycle: the change feed, as `partnerlink run`
            syncer = Syncer(
                store,
                connectors,
                clock=now,
                concurrency=1 if sequential else int(spec.get("concurrency", 64)),
                applies=applies,
                feed=ChangeFeed(
                    full_every=timedelta(days=float(feed["full_every_days"])),
                    covers_from=now() - timedelta(days=float(feed["lookback_days"])),
                )
                if feed
                else None,
            )
            started, cpu_started = time.monotonic(), resource.getrusage(resource.RUSAGE_SELF)
            outcome = await syncer.run("bench")
            wall = time.monotonic() - started
            cpu_ended = resource.getrusage(resource.RUSAGE_SELF)
            user = cpu_ended.ru_utime - cpu_started.ru_utime
            system = cpu_ended.ru_stime - cpu_started.ru_stime
        counts = store.counts()
        timeline = _timeline(store, outcome.run_id)
    return {
        "wall_s": wall,
        "status": str(outcome.status),
        "carried": outcome.carried,
        "stats": outcome.stats(),
        "counts": counts,
        "requests": requester.sent,
        "by_path": dict(counting[0].shapes.most_common()) if counting else {},
        "limiter_waits": requester.limits.waits if requester.limits else 0,
        "limiter_waited_s": round(requester.limits.waited, 1) if requester.limits else 0,
        "limiter_waits_by_limit": requester.limits.waits_by_limit if requester.limits else {},
        "peak_rss_mb": peak_rss_mb(),
        "cpu_s": cpu_seconds(),
        "sync_cpu_s": user + system,
        "sync_cpu_user_s": user,
        "sync_cpu_system_s": system,
        "timeline": timeline,
    }


def _timeline(store: Store, run_id: int) -> dict[str, list[float]]:
    """Seconds from the run's start at which each source's first and last scope was stored:
    shows which read set the pace."""
    from sqlalchemy import func, select

    from agent.store.models import SourceStatus, SyncRun

    with store.read() as s:
        run = s.get(SyncRun, run_id)
        assert run is not None
        rows = s.execute(
            select(
                SourceStatus.source,
                func.min(SourceStatus.finished_at),
                func.max(SourceStatus.finished_at),
            )
            .where(SourceStatus.run_id == run_id)
            .group_by(SourceStatus.source)
        ).all()
    start = run.started_at
    out: dict[str, list[float]] = {}

    def seconds(value: datetime | str) -> float:
        at = datetime.fromisoformat(value) if isinstance(value, str) else value
        at = at.replace(tzinfo=UTC) if at.tzinfo is None else at
        return round((at - start).total_seconds(), 1)

    for source, first, last in rows:
        out[source] = [seconds(first), seconds(last)]
    return out


class MemoryTrace:
    """Where the memory goes: RSS every second, and (tracemalloc on) the allocation sites of
    the moment Python held the most, written to ``path`` when the sync is over. A diagnostic:
    tracemalloc roughly halves the agent's speed, so its figures are never the benchmark's."""

    def __init__(self, path: Path, interval: float = 1.0) -> None:
        import threading
        import tracemalloc

        self.path = path
        self.interval = interval
        self.samples: list[tuple[float, float]] = []
        self.peak_traced = 0
        self.snapshot: tracemalloc.Snapshot | None = None
        self.first: tracemalloc.Snapshot | None = None
        self._stop = threading.Event()
        self._started = time.monotonic()
        tracemalloc.start(4)
        self._thread = threading.Thread(target=self._sample, daemon=True, name="memory-trace")
        self._thread.start()

    def _sample(self) -> None:
        import tracemalloc

        page = resource.getpagesize()
        last_snapshot = 0.0
        while not self._stop.wait(self.interval):
            fields = Path("/proc/self/statm").read_text().split()
            rss = int(fields[1]) * page / 2**20
            elapsed = time.monotonic() - self._started
            self.samples.append((round(elapsed, 1), round(rss, 1)))
            if self.first is None and elapsed > 40:
                self.first = tracemalloc.take_snapshot()
            current, _peak = tracemalloc.get_traced_memory()
            if current > self.peak_traced * 1.02 and elapsed - last_snapshot > 10:
                self.peak_traced = current
                self.snapshot = tracemalloc.take_snapshot()
                last_snapshot = time.monotonic() - self._started

    def close(self) -> None:
        import tracemalloc

        self._stop.set()
        self._thread.join()
        growth: list[str] = []
        if self.first is not None:
            last = tracemalloc.take_snapshot()
            growth = ["", "growth from 40 s to the end:"]
            for stat in last.compare_to(self.first, "traceback")[:40]:
                growth.append(
                    f"  {stat.size_diff / 2**20:+8.2f} MB {stat.count_diff:>+8}  "
                    + " <- ".join(str(f) for f in stat.traceback)
                )
        lines = [f"peak traced {self.peak_traced / 2**20:.1f} MB", "", "RSS (s, MB):"]
        step = max(1, len(self.samples) // 60)
        lines += [f"  {t:8.1f} {rss:8.1f}" for t, rss in self.samples[::step]]
        if self.snapshot is not None:
            for key in ("lineno", "traceback"):
                lines += ["", f"top allocations by {key} at the traced peak:"]
                for stat in self.snapshot.statistics(key)[:30]:
                    lines.append(
                        f"  {stat.size / 2**20:8.2f} MB {stat.count:>8}  "
                        + " <- ".join(str(f) for f in stat.traceback)
                    )
        tracemalloc.stop()
        self.path.write_text("\n".join(lines + growth) + "\n", encoding="utf-8")


def main(argv: list[str]) -> int:
    limit_arenas()  # as the partnerlink command does first
    spec = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    plog.configure(spec.get("log_level", "error"), "json")
    trace = MemoryTrace(Path(spec["memory_trace"])) if spec.get("memory_trace") else None
    profile = spec.get("profile")
    if profile:
        import cProfile

        profiler = cProfile.Profile(time.process_time)
        result = profiler.runcall(asyncio.run, run(spec))
        profiler.dump_stats(profile)
    else:
        result = asyncio.run(run(spec))
    if trace is not None:
        trace.close()
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
