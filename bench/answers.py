"""Instant answers: what people wait for on a large estate, timed as they run it.

A store of 20,000 customers (with ``--quick`` too: the targets are about that size) is filled
through the fake connectors and audited, as the audit row does; then each command runs as its
own ``partnerlink`` process against a config naming that store, exactly as a user types it
(startup and imports included; three times, the median run counts; the project's bytecode
compiled first, as an installed package has it): ``findings``, ``matrix --gaps``, ``status``,
``credit`` within 2 s, ``report --html`` within 20 s with the page's size; and the daemon's page,
rendered once into its per-cycle cache and then served by the daemon's own endpoint, within
50 ms a request. Wall time is the figure; CPU time (user + system of the command's process) is
printed beside it because the machine may be shared.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.report import Report

ROOT = Path(__file__).resolve().parents[1]
CUSTOMERS = 20_000
TOKEN = "bench-report-token-0123456789abcdef"

COMMANDS: tuple[tuple[str, tuple[str, ...], float], ...] = (
    ("findings", ("findings",), 2.0),
    ("matrix --gaps", ("matrix", "--gaps"), 2.0),
    ("status", ("status",), 2.0),
    ("credit", ("credit",), 2.0),
)


def _child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _env() -> dict[str, str]:
    return dict(os.environ, PYTHONPATH=str(ROOT), COLUMNS="160")


def write_config(folder: Path, store_url: str, seed: int, customers: int = CUSTOMERS) -> Path:
    """The config of the generated estate's partner (as the demo writes one), its store at
    ``store_url``, the world on disk for the fake sources it names."""
    from agent.demo import WORLD, write_config
    from standin.scenario import parse_scenario
    from standin.scenario.generate import generate_scenario

    document = generate_scenario(customers, seed)
    (folder / WORLD).write_text(json.dumps(document, separators=(",", ":")), encoding="utf-8")
    path = write_config(folder, parse_scenario(document), "fake")
    text = path.read_text(encoding="utf-8").replace(
        'data_dir = "."', f'url = "{store_url}"\ndata_dir = "."'
    )
    lines = [line for line in text.splitlines() if "managed_customers_file" not in line]
    lines += ["", "[http]", f'token = "{TOKEN}"', "port = 0"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


RUNS = 3
"""Each command is run this many times; its figure is the median run (by wall time): a
shared machine's noise moves a single run of a second or two by a quarter either way."""


def compile_bytecode() -> None:
    """Compile the project's modules once, as installing a package does: where
    ``PYTHONDONTWRITEBYTECODE`` is set (some containers set it), every command would otherwise
    compile its 200 modules from source each time it starts, which no installed agent does."""
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", "agent", "connectors", "standin"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=600,
    )


def run_median(
    config: Path, argv: tuple[str, ...], out: Path, runs: int = RUNS
) -> tuple[float, float, int, list[float]]:
    """:func:`run_command` ``runs`` times: the median run's wall, CPU and size, and every
    run's wall time."""
    done = sorted((run_command(config, argv, out) for _ in range(runs)), key=lambda r: r[0])
    wall, cpu, size = done[len(done) // 2]
    return wall, cpu, size, [r[0] for r in done]


def run_command(config: Path, argv: tuple[str, ...], out: Path) -> tuple[float, float, int]:
    """One ``partnerlink`` command as its own process: wall seconds, CPU seconds, output size."""
    cpu = _child_cpu()
    started = time.perf_counter()
    with out.open("wb") as sink:
        done = subprocess.run(
            [sys.executable, "-m", "agent", "--config", str(config), *argv],
            stdout=sink,
            stderr=subprocess.PIPE,
            env=_env(),
            check=False,
            timeout=600,
        )
    wall = time.perf_counter() - started
    if done.returncode not in (0, 3):  # 3: the last run was partial (status says so)
        raise RuntimeError(f"{' '.join(argv)} failed: {done.stderr.decode()[-1500:]}")
    return wall, _child_cpu() - cpu, out.stat().st_size


def serve_page(config_path: str, requests: int = 50) -> dict[str, Any]:
    """In a process of its own (``--answers-page``): render the report once into the daemon's
    page cache, serve it on the daemon's endpoint, and time ``requests`` GETs of ``/``."""
    import http.client

    from agent.app import Agent
    from agent.config import load_settings
    from agent.metrics import Metrics
    from agent.web.page import ReportPage
    from agent.web.server import status_server

    settings = load_settings(Path(config_path))
    with Agent(settings) as agent:
        page = ReportPage()
        started = time.perf_counter()
        from agent import report

        data = agent.report_data(agent.clock(), every_line=False)
        page.publish(report.to_html(data), agent.clock())
        render = time.perf_counter() - started
        server = status_server(
            agent.store, Metrics(agent.store), settings.http, page=page, clock=agent.clock
        )
        server.start()
        try:
            times: list[float] = []
            size = 0
            for _ in range(requests):
                conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
                began = time.perf_counter()
                conn.request(  # as a browser asks: it always takes gzip
                    "GET",
                    "/",
                    headers={"Authorization": f"Bearer {TOKEN}", "Accept-Encoding": "gzip"},
                )
                answer = conn.getresponse()
                body = answer.read()
                times.append(time.perf_counter() - began)
                conn.close()
                if answer.status != 200:
                    raise RuntimeError(f"GET / answered {answer.status}")
                size = len(body)
        finally:
            server.stop()
    current = page.current()
    return {
        "whole": len(current.body) if current is not None else 0,
        "render_s": render,
        "median_ms": statistics.median(times) * 1000,
        "max_ms": max(times) * 1000,
        "size": size,
    }


def _fill(n: int, url: str, seed: int) -> dict[str, float]:
    scale = str(ROOT / "bench" / "scale.py")
    done = subprocess.run(
        [sys.executable, scale, "--audit-one", str(n), url, "--seed", str(seed)],
        capture_output=True,
        text=True,
        check=False,
        timeout=7200,
        env=_env(),
    )
    if done.returncode != 0:
        raise RuntimeError(f"filling {n} customers failed: {done.stderr[-2000:]}")
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def bench_answers(report: Report, folder: Path, args: argparse.Namespace) -> None:
    from bench.scale import databases

    n = int(getattr(args, "answers_customers", None) or CUSTOMERS)
    print(f"\n* answers at {n:,} customers (each command its own process)", flush=True)
    with databases(folder, args.db) as dbs:
        for name, make_url in dbs:
            url = make_url()
            filled = _fill(n, url, args.seed)
            where = folder / f"answers-{name.lower()}"
            where.mkdir(exist_ok=True)
            config = write_config(where, url, args.seed, n)
            report.add(
                f"answers {name}: store of {n:,} customers",
                f"filled in {filled['filled_s']:.0f} s, audited in {filled['audit_s']:.0f} s",
            )
            compile_bytecode()
            for label, argv, limit in COMMANDS:
                wall, cpu, size, walls = run_median(config, argv, where / "out.txt")
                report.add(
                    f"  {label} ({name})",
                    f"{wall:.2f} s wall, {cpu:.2f} s CPU, {size:,} bytes "
                    f"(median of {_runs(walls)})",
                )
                _verdict(report, f"{label} <= {limit:g} s ({name})", wall, cpu, limit)
            html = where / "report.html"
            wall, cpu, _size, walls = run_median(
                config, ("report", "--html", str(html)), where / "o"
            )
            size = html.stat().st_size
            report.add(
                f"  report --html ({name})",
                f"{wall:.1f} s wall, {cpu:.1f} s CPU, page {size / 1e6:.1f} MB "
                f"(median of {_runs(walls)})",
            )
            _verdict(report, f"report --html <= 20 s ({name})", wall, cpu, 20.0)
            page = _page(config)
            report.add(
                f"  daemon page from its cache ({name})",
                f"median {page['median_ms']:.1f} ms, max {page['max_ms']:.1f} ms over 50 GETs "
                f"({page['size'] / 1e6:.1f} MB gzipped of {page['whole'] / 1e6:.1f} MB; "
                f"rendered once per cycle in {page['render_s']:.1f} s)",
            )
            report.target(
                f"daemon page <= 50 ms ({name})",
                page["max_ms"] <= 50,
                f"max {page['max_ms']:.1f} ms",
            )


def _runs(walls: list[float]) -> str:
    return ", ".join(f"{w:.2f}" for w in walls) + " s"


def _verdict(report: Report, what: str, wall: float, cpu: float, limit: float) -> None:
    """Judged on wall time; on a machine busier than its cores (load average over the core
    count) on the command's own CPU time instead, and the line says so: a single-threaded
    command that needs ``cpu`` seconds answers in about that on a machine of its own."""
    load, cores = os.getloadavg()[0], os.cpu_count() or 1
    if load <= cores:
        report.target(what, wall <= limit, f"{wall:.2f} s")
        return
    report.target(
        what,
        cpu <= limit,
        f"{cpu:.2f} s CPU ({wall:.2f} s wall; load {load:.1f} on {cores} cores: judged on CPU)",
    )


def _page(config: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "scale.py"), "--answers-page", str(config)],
        capture_output=True,
        text=True,
        check=False,
        timeout=1800,
        env=_env(),
    )
    if done.returncode != 0:
        raise RuntimeError(f"serving the page failed: {done.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result
