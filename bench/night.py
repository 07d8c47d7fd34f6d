"""The night: a scheduled (not full) cycle against the full sync it follows.

One estate, one emulator, one store: a full sync, then a scheduled cycle (the change feed on, as
``partnerlink run`` schedules it) on the unchanged estate, then one after 1 % of the customers
changed (a CSP subscription's seats, and the audit record Partner Center writes for it). Each
row gives the requests the emulator counted, the wall time and the floor its limits set.
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.harness import (
    EmulatorProcess,
    Estate,
    burst_floor,
    floors,
    make_estate,
    run_agent_sync,
)
from bench.report import Report

CHANGED_SHARE = 0.01


def change_customers(estate: Estate, share: float = CHANGED_SHARE) -> int:
    """Change ``share`` of the estate's customers (every n-th with a CSP subscription): one
    more seat, and the audit record naming the customer, dated now. Rewrites the file (the
    emulator reloads it); the number changed."""
    document = estate.document
    assert document is not None, "the estate must be made with keep=True"
    step = max(1, round(1 / share))
    stamp = datetime.now(UTC).replace(microsecond=0).isoformat()
    changed = 0
    for index, customer in enumerate(document["customers"]):
        subs = customer.get("csp_subscriptions") or []
        if index % step or not subs:
            continue
        subs[0]["quantity"] = int(subs[0].get("quantity") or 1) + 1
        document.setdefault("audit_events", []).append(
            {
                "id": f"bench-night-{index}",
                "operation_type": "update_subscription",
                "resource_type": "subscription",
                "customer_tenant_id": customer["tenant_id"],
                "date": stamp,
            }
        )
        changed += 1
    estate.path.write_text(json.dumps(document, separators=(",", ":")), encoding="utf-8")
    return changed


def _wait_for_reload(emulator: EmulatorProcess, before: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if int(emulator.info().get("reloads", 0)) > before:
            return
        time.sleep(0.3)
    raise RuntimeError("the emulator did not reload the changed estate")


def _cycle(
    emulator: EmulatorProcess, estate: Estate, folder: Path, store_url: str, ts: float, feed: bool
) -> dict[str, Any]:
    emulator.reset()  # counts and throttling state of this cycle alone
    result = run_agent_sync(emulator, estate, folder, store_url=store_url, time_scale=ts, feed=feed)
    info = emulator.info()
    scope_floors = floors(info)
    strict, _name = burst_floor(scope_floors, info)
    result["api_requests"] = sum(v for k, v in info["requests"].items() if k != "login")
    result["floor_s"] = scope_floors[0].floor_s if scope_floors else 0.0
    result["floor_limit"] = scope_floors[0].limit if scope_floors else "-"
    result["strict_floor_s"] = strict
    return result


def bench_night(report: Report, folder: Path, args: argparse.Namespace) -> None:
    n = 2000
    print(f"\n* the night: full sync, then scheduled cycles, {n:,} customers", flush=True)
    estate = make_estate(
        folder, n, args.seed, time_scale=args.time_scale, latency_ms=args.latency_ms, keep=True
    )
    store = folder / "night.db"
    for old in folder.glob(store.name + "*"):
        old.unlink()
    url = f"sqlite:///{store}"
    with EmulatorProcess(estate.path) as emulator:
        full = _cycle(emulator, estate, folder, url, args.time_scale, feed=False)
        quiet = _cycle(emulator, estate, folder, url, args.time_scale, feed=True)
        before = int(emulator.info().get("reloads", 0))
        changed = change_customers(estate)
        _wait_for_reload(emulator, before)
        busy = _cycle(emulator, estate, folder, url, args.time_scale, feed=True)
    estate.path.unlink(missing_ok=True)
    for label, row in (
        (f"night: full sync of {n:,} customers", full),
        ("night: scheduled cycle, nothing changed", quiet),
        (f"night: scheduled cycle, {changed} customers (1 %) changed", busy),
    ):
        share = row["api_requests"] / max(full["api_requests"], 1)
        report.add(
            label,
            f"{row['api_requests']:,} requests ({share:.0%} of full), wall {row['wall_s']:.1f} s, "
            f"floor {row['floor_s']:.1f} s ({row['floor_limit']}; after bursts "
            f"{row['strict_floor_s']:.1f} s), {row.get('carried', 0):,} scopes carried",
        )
    for label, row in (("nothing changed", quiet), ("1 % changed", busy)):
        share = row["api_requests"] / max(full["api_requests"], 1)
        report.target(
            f"scheduled cycle ({label}) <= half the full sync's requests",
            share <= 0.5,
            f"{share:.0%} ({row['api_requests']:,} of {full['api_requests']:,})",
        )
