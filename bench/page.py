"""The report page at scale: a generated estate synced and audited through the fake connectors
(with a managed-customers file naming an owner per customer), then the page rendered and
loaded in headless Chromium.

Measured: the time to collect what the report shows and to render the page (Python), the page's
size, and in Chromium the time from navigation start until the page's script has shown its
tables (``performance.now()`` read by a script added after the page's own, allowed by its hash
like the page's), and how long one search over every finding takes to show its first page.

``python bench/page.py N`` measures one estate and prints one JSON line (``bench/scale.py
--only page`` runs it in a process of its own and adds the row)."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from agent import logging as plog  # noqa: E402
from agent import report  # noqa: E402
from agent.app import Agent  # noqa: E402
from agent.config import load_settings  # noqa: E402
from agent.demo import MANAGED, WORLD, write_config  # noqa: E402
from standin.scenario import load_scenario  # noqa: E402
from standin.scenario.generate import write_scenario  # noqa: E402

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
TIMING = """(function () {
  var ready = performance.now();
  var section = document.querySelector("section[data-table=customers]");
  var box = section.querySelector("[data-role=search]");
  var started = performance.now();
  box.value = "team-1";
  box.dispatchEvent(new Event("input"));
  var searched = performance.now() - started;
  var pre = document.createElement("pre");
  pre.id = "bench";
  pre.textContent = JSON.stringify({ready_ms: ready, search_ms: searched,
    status: section.querySelector("[data-role=status]").textContent,
    rows: document.querySelectorAll("tbody tr").length});
  document.body.appendChild(pre);
})();"""


def fill(folder: Path, customers: int, seed: int) -> Path:
    """A config, its generated world and managed-customers file; one cycle run on them."""
    write_scenario(folder / WORLD, customers, seed)
    scenario = load_scenario(folder / WORLD)
    lines = ["customer_tenant_id,name,workloads,expected_links,tags,owner"]
    lines += [f"{c.tenant_id},,m365,cpor,,team-{n % 12}" for n, c in enumerate(scenario.customers)]
    (folder / MANAGED).write_text("\n".join(lines) + "\n", encoding="utf-8")
    config = write_config(folder, scenario, "fake")
    with Agent(load_settings(config)) as agent:
        agent.cycle()
    return config


def with_timing(page: str) -> str:
    digest = base64.b64encode(hashlib.sha256(TIMING.encode()).digest()).decode()
    page = re.sub(
        r"(script-src &#x27;sha256-[A-Za-z0-9+/=]+&#x27;)",
        rf"\1 &#x27;sha256-{digest}&#x27;",
        page,
        count=1,
    )
    return page.replace("</body>", f"<script>{TIMING}</script></body>", 1)


def in_chromium(page: str, folder: Path) -> dict[str, Any]:
    if CHROMIUM is None:
        return {"chromium": "not installed"}
    path = folder / "page.html"
    path.write_text(with_timing(page), encoding="utf-8")
    started = time.perf_counter()
    done = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            f"--user-data-dir={folder / 'profile'}",
            "--dump-dom",
            path.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=True,
    )
    wall = time.perf_counter() - started
    found = re.search(r'<pre id="bench">(.*?)</pre>', done.stdout, re.S)
    if not found:
        return {"chromium": "the page's script did not finish", "wall_s": wall}
    return {**json.loads(found.group(1).replace("&quot;", '"')), "wall_s": wall}


def measure(customers: int, seed: int) -> dict[str, Any]:
    plog.configure("error", "json")
    with tempfile.TemporaryDirectory(prefix="partnerlink-page-") as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        config = fill(folder, customers, seed)
        filled = time.perf_counter() - started
        with Agent(load_settings(config)) as agent:
            started = time.perf_counter()
            data = agent.report_data(agent.clock())
            collected = time.perf_counter() - started
        started = time.perf_counter()
        page = report.to_html(data)
        rendered = time.perf_counter() - started
        return {
            "customers": customers,
            "filled_s": filled,
            "collect_s": collected,
            "render_s": rendered,
            "bytes": len(page.encode("utf-8")),
            "table_rows": {
                "customers": len(data.customers),
                "findings": len(data.findings),
                "credit_lines": len(data.recognition),
                "matrix": len(data.matrix),
            },
            **in_chromium(page, folder),
        }


if __name__ == "__main__":
    size = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    print(json.dumps(measure(size, int(sys.argv[2]) if len(sys.argv) > 2 else 1)))
