"""structlog set-up: JSON lines off a terminal, readable lines on one, secrets redacted (guarantee
no-secrets-out).

Every value that is a known secret (client secrets, tokens, passwords, webhook URLs) is replaced
before rendering, JWT-looking strings anywhere are masked, CR, LF, escape and other control
characters in values are spelled out (``for_log``: a name from Microsoft cannot forge a log line
or drive the terminal the console renderer writes to), and tracebacks are rendered without local
variables.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable, MutableMapping
from typing import Any, TextIO

import structlog

from agent.escape import for_log

_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*")
_SIG = re.compile(r"([?&](?:sig|code|client_secret|token|access_token)=)[^&\s]+", re.I)
_URL_PASSWORD = re.compile(r"(://[^:/@\s]+:)[^@\s]+@")
_SECRET_KEYS = re.compile(r"(secret|password|token|authorization|credential|assertion)", re.I)

_known: set[str] = set()


def register_secrets(values: Iterable[str | None]) -> None:
    """Values that must never appear in a log line, whatever field carries them."""
    _known.update(v for v in values if v and len(v) >= 6)


def scrub(text: str) -> str:
    for secret in sorted(_known, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, "**********")
    text = _JWT.sub("eyJ**********", text)
    text = _SIG.sub(r"\1**********", text)
    text = _URL_PASSWORD.sub(r"\1**********@", text)
    return for_log(text)


def _redact(_logger: Any, _name: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key, value in list(event.items()):
        if key in ("exception", "stack"):
            if isinstance(value, str):
                event[key] = "\n".join(scrub(line) for line in value.split("\n"))
            continue
        if _SECRET_KEYS.search(key) and value not in (None, "", True, False):
            event[key] = "**********"
        elif isinstance(value, str):
            event[key] = scrub(value)
    return event


class CurrentStderr:
    """Writes to whatever ``sys.stderr`` is at the moment of writing: while a progress bar is
    drawn, rich has put a proxy there that prints each line above the bar, so a log line never
    runs into the bar (``agent.terminal.ProgressBar``)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()

    def isatty(self) -> bool:
        return sys.stderr.isatty()


def configure(level: str = "info", fmt: str = "auto", stream: TextIO | None = None) -> None:
    """Configure structlog (and the standard logging it wraps) once per process; without a
    ``stream``, onto the process's standard error as it stands at each write."""
    out: Any = stream or CurrentStderr()
    tty = out.isatty()
    pretty = fmt == "console" or (fmt == "auto" and tty)
    renderer: Any = (
        structlog.dev.ConsoleRenderer(colors=tty, exception_formatter=structlog.dev.plain_traceback)
        if pretty
        else structlog.processors.JSONRenderer()
    )
    processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.format_exc_info,  # plain traceback text: never local variables
        _redact,
        renderer,
    ]
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(
            getattr(logging, level.upper(), logging.INFO)
        ),
        logger_factory=structlog.PrintLoggerFactory(file=out),
        cache_logger_on_first_use=False,
    )
    logging.basicConfig(level=logging.WARNING, stream=out, force=True)
    for noisy in ("httpx", "httpcore", "msal", "alembic", "apscheduler"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
