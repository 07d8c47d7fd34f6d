"""The agent's CPU per request before the work of issue 16, measured on this machine.

Machines of the same size differ twofold in CPU per request, so "at most half of before" means
nothing unless before and after run on the same machine. The commit before that work
(:data:`BEFORE`) is checked out into a temporary git worktree and its own ``bench/scale.py
--only sync`` runs with the same time scale, latency and seed; the figure (agent process CPU
over API requests, both as that run printed them) is kept in a cache file keyed by the machine
and the commit, so later runs on the same machine reuse it. Without git history (an exported
tree) the figure measured where bench/README.md says is used, and the row says so.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BEFORE = "054f7ae"
"""The last commit before issue 16's work."""
RECORDED_MS = 2.48
"""Agent CPU per request of ``BEFORE`` on the machine of bench/README.md's first figures."""


def machine() -> str:
    """What makes CPU figures comparable: the processor, the core count, the host."""
    model = ""
    try:
        for line in (
            Path("/proc/cpuinfo").read_text(encoding="ascii", errors="replace").splitlines()
        ):
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        model = platform.processor()
    return f"{model} x{os.cpu_count()} on {platform.node()}"


def _cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "partnerlink" / "bench-baseline.json"


def _key(args: argparse.Namespace) -> str:
    what = f"{BEFORE}|{machine()}|{args.time_scale}|{args.latency_ms}|{args.seed}"
    return hashlib.sha256(what.encode()).hexdigest()[:16]


def before_cpu_per_request(args: argparse.Namespace) -> tuple[float, str]:
    """(ms of agent CPU per API request before issue 16, where the figure comes from)."""
    cache, key = _cache(), _key(args)
    known = json.loads(cache.read_text(encoding="utf-8")) if cache.is_file() else {}
    if key in known:
        return float(known[key]["ms"]), f"measured on this machine ({known[key]['detail']})"
    try:
        ms, detail = _measure(args)
    except (OSError, subprocess.CalledProcessError, ValueError) as exc:
        print(f"  (the commit before could not be measured here: {exc})", flush=True)
        return RECORDED_MS, "recorded elsewhere: not comparable with this machine"
    known[key] = {"ms": ms, "detail": detail, "machine": machine(), "commit": BEFORE}
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(json.dumps(known, indent=2), encoding="utf-8")
    return ms, f"measured on this machine ({detail})"


def _measure(args: argparse.Namespace) -> tuple[float, str]:
    print(f"\n* the sync row at commit {BEFORE} (before issue 16), once per machine", flush=True)
    with tempfile.TemporaryDirectory(prefix="partnerlink-before-") as tmp:
        tree = Path(tmp) / "tree"
        git = ["git", "-C", str(ROOT)]
        subprocess.run([*git, "worktree", "add", "--detach", "-q", str(tree), BEFORE], check=True)
        try:
            out = Path(tmp) / "before.json"
            subprocess.run(
                [
                    sys.executable,
                    str(tree / "bench" / "scale.py"),
                    *("--only", "sync", "--out", str(out), "--seed", str(args.seed)),
                    *("--time-scale", str(args.time_scale), "--latency-ms", str(args.latency_ms)),
                ],
                check=True,
                stdout=subprocess.DEVNULL,
                env=dict(os.environ, PYTHONPATH=str(tree)),
                timeout=3600,
            )
            rows = dict(json.loads(out.read_text(encoding="utf-8"))["rows"])
        finally:
            subprocess.run([*git, "worktree", "remove", "--force", str(tree)], check=False)
    cpu = _number(rows["  CPU (agent / emulator)"])
    requests = _number(rows["  requests (API / logins)"])
    return cpu / requests * 1000, f"{cpu:.0f} s of agent CPU for {requests:,.0f} requests"


def _number(value: str) -> float:
    """The first figure of a row's value: ``136 s / 57 s`` -> 136, ``27,262 / 6,554`` -> 27262."""
    match = re.match(r"\s*([\d,.]+)", value)
    if match is None:
        raise ValueError(f"no figure in {value!r}")
    return float(match.group(1).replace(",", ""))
