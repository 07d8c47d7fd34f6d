"""The report served at ``/``: rendered once per cycle and kept as bytes, so a request never
renders (a large estate takes seconds of CPU to render)."""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Page:
    body: bytes
    etag: str
    rendered_at: datetime


class ReportPage:
    """The latest rendered report; written by the cycle, read by request threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._page: Page | None = None
        self.renders = 0

    def publish(self, html: str, rendered_at: datetime) -> None:
        body = html.encode("utf-8")
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        with self._lock:
            self._page = Page(body, etag, rendered_at)
            self.renders += 1

    def current(self) -> Page | None:
        with self._lock:
            return self._page
