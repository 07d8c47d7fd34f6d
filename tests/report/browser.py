"""Headless Chromium for the report's page: load it, let its script run, and read the DOM.

A test drives the page as a person would — typing in a search box, choosing a filter, clicking
a column header, a customer, the next page — through a script of its own that dispatches those
events to the page's own handlers and writes what the tables then show into the DOM as JSON.
The page's Content-Security-Policy allows scripts by hash only, so the test's script is added to
it by its hash, exactly as the page's own is."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SKIP_REASON = "Debian's chromium is not installed (.ci/run installs it)"


def with_script(page: str, script: str) -> str:
    """``page`` with ``script`` run after its own, allowed by its hash in the page's policy."""
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
    allowed = re.sub(
        r"(script-src &#x27;sha256-[A-Za-z0-9+/=]+&#x27;)",
        rf"\1 &#x27;sha256-{digest}&#x27;",
        page,
        count=1,
    )
    assert allowed != page, "the page has a script-src policy"
    return allowed.replace("</body>", f"<script>{script}</script></body>", 1)


def dump_dom(page: str, folder: Path) -> str:
    """The DOM after the page's scripts ran, as Chromium serialises it."""
    assert CHROMIUM is not None
    path = folder / "page.html"
    path.write_text(page, encoding="utf-8")
    done = subprocess.run(
        [*[CHROMIUM, *FLAGS], f"--user-data-dir={folder / 'profile'}", "--dump-dom", path.as_uri()],
        capture_output=True,
        text=True,
        timeout=180,
        check=True,
    )
    return done.stdout


def results(dom: str) -> dict[str, Any]:
    """What the test's script wrote into ``<pre id="test-results">``."""
    match = re.search(r'<pre id="test-results">(.*?)</pre>', dom, re.S)
    assert match, "the test's script did not finish: " + dom[-2000:]
    text = match.group(1).replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"')
    data: dict[str, Any] = json.loads(text.replace("&amp;", "&"))
    return data
