"""The benchmark's moving parts: an emulator in its own process, an agent sync in its own
process, and the floor that Microsoft's limits set for the requests the emulator counted."""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from agent.auth import RefreshTokenStore
from standin.scenario.generate import carrier_tenants, generate_scenario

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


class EmulatorProcess:
    """``bench/emulator_process.py`` as a child process; stopped by closing its stdin."""

    def __init__(self, scenario_path: Path) -> None:
        self.scenario_path = scenario_path
        self.proc: subprocess.Popen[str] | None = None
        self.base_url = ""
        self.ca_path = ""
        self.partner_tenant_id = ""
        self._http: httpx.Client | None = None

    def __enter__(self) -> EmulatorProcess:
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE / "emulator_process.py"), str(self.scenario_path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("the emulator process did not start")
        ready = json.loads(line)
        self.base_url, self.ca_path = ready["base_url"], ready["ca_path"]
        self.partner_tenant_id = ready["partner_tenant_id"]
        self._http = httpx.Client(
            verify=ssl.create_default_context(cafile=self.ca_path), timeout=60.0
        )
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._http is not None:
            self._http.close()
        if self.proc is not None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.terminate()
                self.proc.wait(timeout=15)

    def info(self) -> dict[str, Any]:
        assert self._http is not None
        answer = self._http.get(f"{self.base_url}/_emulator/info", params={"detail": "true"})
        answer.raise_for_status()
        info: dict[str, Any] = answer.json()
        return info

    def cpu_seconds(self) -> float:
        """CPU time the emulator process has used (user + system), from /proc."""
        assert self.proc is not None
        try:
            fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return float("nan")
        ticks = os.sysconf("SC_CLK_TCK")
        return (int(fields[11]) + int(fields[12])) / ticks

    def reset(self) -> None:
        assert self._http is not None
        self._http.post(f"{self.base_url}/_emulator/reset").raise_for_status()

    def refresh_token(self) -> str:
        assert self._http is not None
        answer = self._http.post(f"{self.base_url}/_emulator/refresh-token")
        answer.raise_for_status()
        return str(answer.json()["refresh_token"])


@dataclass
class Estate:
    """A generated world on disk, and what the agent is configured with for it."""

    customers: int
    path: Path
    apps: dict[str, dict[str, str]]
    carrier_tenants: dict[str, list[str]]
    partner_tenant_id: str
    document: dict[str, Any] | None = None


def make_estate(
    folder: Path,
    customers: int,
    seed: int,
    *,
    time_scale: float,
    latency_ms: float,
    keep: bool = False,
) -> Estate:
    document = generate_scenario(customers, seed, time_scale=time_scale, latency_ms=latency_ms)
    path = folder / f"estate-{customers}-seed{seed}.json"
    path.write_text(json.dumps(document, separators=(",", ":")), encoding="utf-8")
    partner = document["partner"]
    apps = {
        "partner-app": {
            "client_id": partner["app"]["client_id"],
            "client_secret": partner["app"]["client_secret"],
        }
    }
    carriers: dict[str, list[str]] = {}
    for carrier in partner["carriers"]:
        apps[carrier["name"]] = {
            "client_id": carrier["client_id"],
            "client_secret": carrier["client_secret"],
        }
        carriers[carrier["name"]] = carrier_tenants(document, carrier["name"])
    return Estate(
        customers, path, apps, carriers, partner["tenant_id"].lower(), document if keep else None
    )


def run_agent_sync(
    emulator: EmulatorProcess,
    estate: Estate,
    folder: Path,
    *,
    store_url: str,
    time_scale: float,
    sequential: bool = False,
    concurrency: int = 64,
    max_in_flight: int = 64,
    timeout: float = 3600,
    profile: str | None = None,
    memory_trace: str | None = None,
    sources: list[str] | None = None,
    feed: bool = False,
) -> dict[str, Any]:
    """One sync in a fresh agent process; its JSON result. ``feed``: a scheduled cycle (the
    change feed on, ``full_every`` 7 days, 30 days of audit records) instead of a full sync."""
    refresh = folder / "refresh-token.json"
    RefreshTokenStore(refresh).save(
        emulator.refresh_token(),
        client_id=estate.apps["partner-app"]["client_id"],
        tenant_id=estate.partner_tenant_id,
    )
    spec = {
        "base_url": emulator.base_url,
        "ca_path": emulator.ca_path,
        "partner_tenant_id": estate.partner_tenant_id,
        "apps": estate.apps,
        "carrier_tenants": estate.carrier_tenants,
        "refresh_token_file": str(refresh),
        "store_url": store_url,
        "time_scale": time_scale,
        "sequential": sequential,
        "concurrency": concurrency,
        "max_in_flight": max_in_flight,
        "profile": profile,
        "memory_trace": memory_trace,
        "sources": sources,
        "feed": {"full_every_days": 7, "lookback_days": 30} if feed else None,
    }
    with tempfile.NamedTemporaryFile("w", suffix=".json", dir=folder, delete=False) as handle:
        json.dump(spec, handle)
        spec_path = handle.name
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run(
        [sys.executable, str(HERE / "agent_sync.py"), spec_path],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"agent sync failed ({done.returncode}): {done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


@dataclass(frozen=True)
class ScopeFloor:
    """One throttling limit as the emulator counted it, and the time its busiest key needs."""

    limit: str
    keys: int
    requests: int
    throttled: int
    busiest: int
    rate_per_s: float
    floor_s: float


def floors(info: dict[str, Any]) -> list[ScopeFloor]:
    """For each limit: requests admitted per key divided by the limit's (scaled) rate; the
    largest over keys is that limit's floor. Refused (429) tries are not work the floor counts;
    their retries are."""
    out: list[ScopeFloor] = []
    for name, stats in info["scopes"].items():
        rate = float(stats["rate_per_s"])
        per_key = stats.get("per_key") or {}
        admitted = {k: v["requests"] - v["throttled"] for k, v in per_key.items()}
        busiest = max(admitted.values(), default=0)
        out.append(
            ScopeFloor(
                name,
                len(per_key),
                int(stats["requests"]),
                int(stats["throttled"]),
                busiest,
                rate,
                busiest / rate,
            )
        )
    return sorted(out, key=lambda f: f.floor_s, reverse=True)


def burst_floor(scope_floors: list[ScopeFloor], info: dict[str, Any]) -> tuple[float, str]:
    """The floor once each scope's burst capacity is spent: (admitted - capacity) / rate, the
    largest. A scope with fewer requests than its capacity needs no time at all."""
    best, name = 0.0, ""
    for f in scope_floors:
        capacity = float(info["scopes"][f.limit]["capacity"])
        value = max(0.0, f.busiest - capacity) / f.rate_per_s
        if value > best:
            best, name = value, f.limit
    return best, name
