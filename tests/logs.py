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
def kept_logging() -> Iterator[None]:
    """Put structlog and the root logger back as they were: a command configures logging onto
    the stream it had, which the test runner closes when the command returns."""
    was_configured, saved = structlog.is_configured(), structlog.get_config()
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        yield
    finally:
        if was_configured:
            structlog.configure(**saved)
        else:
            structlog.reset_defaults()
        root.handlers[:] = handlers
        root.setLevel(level)


@contextmanager
def project_logging() -> Iterator[io.StringIO]:
    """The project's JSON log lines into a buffer, the previous set-up kept."""
    with kept_logging():
        stream = io.StringIO()
        plog.configure("debug", "json", stream=stream)
        yield stream
