"""The report served at ``/``: rendered once per cycle and kept as bytes, so a request never
renders (a large estate takes seconds of CPU to render); kept gzipped too, so a browser (which
always accepts gzip) is sent a tenth of a page that runs to a hundred megabytes at 20,000
customers."""

from __future__ import annotations

import gzip
import hashlib
import threading
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Page:
    body: bytes
    etag: str
    rendered_at: datetime
    gzipped: bytes = b""
    """The same body gzip-compressed once, when it was published."""

    @property
    def gzip_etag(self) -> str:
        """The compressed representation's own tag (a strong ETag names one representation)."""
        return self.etag[:-1] + '-gzip"'


class ReportPage:
    """The latest rendered report; written by the cycle, read by request threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._page: Page | None = None
        self.renders = 0

    def publish(self, html: str, rendered_at: datetime) -> None:
        body = html.encode("utf-8")
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        packed = gzip.compress(body, compresslevel=6, mtime=0)
        with self._lock:
            self._page = Page(body, etag, rendered_at, packed)
            self.renders += 1

    def current(self) -> Page | None:
        with self._lock:
            return self._page
