"""The project's own structlog set-up writing JSON lines to a buffer, for tests that read what
the agent logs; the previous set-up (structlog and the standard-library root logger) is put back
afterwards."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager

import structlog

from agent import logging as plog


@contextmanager
def project_logging() -> Iterator[io.StringIO]:
    was_configured, saved = structlog.is_configured(), structlog.get_config()
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    stream = io.StringIO()
    plog.configure("debug", "json", stream=stream)
    try:
        yield stream
    finally:
        if was_configured:
            structlog.configure(**saved)
        else:
            structlog.reset_defaults()
        root.handlers[:] = handlers
        root.setLevel(level)
