"""``[http]``: the daemon's endpoint. The report's bearer token comes from the file or the
environment, is checked when the config loads and stays a SecretStr; the server's limits; the
address the page is reached at from outside (``public_url``), and sign-in (``[http.sign_in]``,
:mod:`agent.web.sign_in_config`)."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from agent.durations import parse_duration
from agent.web.sign_in_config import SignInSection

Duration = Annotated[timedelta, Field(json_schema_extra={"type": "string"})]

_TOKEN = re.compile(r"^[\x21-\x7e]{16,}$")
_PUBLIC_URL = re.compile(r"^https?://[A-Za-z0-9.\-\[\]:]+$")
PUBLIC_URL_LIMIT = 120


def _token_problem(value: str) -> str | None:
    """Why a bearer token cannot be used, or None; never quotes the token."""
    make = "expected 16 or more visible ASCII characters, e.g. from `openssl rand -hex 32`"
    if not value.strip():
        return f"is empty: {make}"
    if not _TOKEN.match(value):
        return f"is too short or holds spaces or non-ASCII: {make}"
    return None


class HttpSection(BaseModel):
    """``[http]``: the daemon's endpoint (agent/web); the report at ``/`` needs a bearer token
    unless the operator opens it with ``report_anonymous``."""

    model_config = ConfigDict(extra="forbid", validate_default=True)

    enabled: bool = True
    bind: str = "127.0.0.1"
    port: int = Field(default=9464, ge=0, le=65535)
    ready_after: Duration = Field(default=timedelta(hours=26))
    token: SecretStr | None = Field(
        default=None, description="Bearer token for the report (better: token_file)."
    )
    token_file: Path | None = Field(default=None, description="File holding the bearer token.")
    report_anonymous: bool = Field(
        default=False, description="Serve the report to anyone who reaches the port."
    )
    threads: int = Field(default=4, ge=1, le=64)
    connection_limit: int = Field(default=500, ge=8, le=10000)
    idle_timeout: Duration = Field(default=timedelta(seconds=30))
    public_url: str | None = Field(
        default=None,
        description="The page's address as people reach it (https://partnerlink.example.com): "
        "alerts link to findings there; sign-in needs it.",
    )
    sign_in: SignInSection | None = None

    _d = field_validator("ready_after", "idle_timeout", mode="before")(
        lambda cls, v: parse_duration(v)
    )

    @field_validator("idle_timeout")
    @classmethod
    def _idle(cls, value: timedelta) -> timedelta:
        if not timedelta(seconds=1) <= value <= timedelta(hours=1):
            raise ValueError("expected a duration between 1s and 1h")
        return value

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        url = value.strip().rstrip("/")
        if not _PUBLIC_URL.match(url) or len(url) > PUBLIC_URL_LIMIT:
            raise ValueError(
                f"expected the page's origin, an http(s) URL of at most {PUBLIC_URL_LIMIT} "
                "characters with no path, like https://partnerlink.example.com (the page is "
                "served at the root of its host)"
            )
        return url

    @property
    def secure_cookies(self) -> bool:
        """Whether the page is reached over HTTPS: its cookies are then ``Secure``."""
        return (self.public_url or "").startswith("https://")

    @field_validator("token")
    @classmethod
    def _token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        token = value.get_secret_value().strip()
        problem = _token_problem(token)
        if problem:
            raise ValueError(f"the token {problem}")
        return SecretStr(token)

    @field_validator("token_file")
    @classmethod
    def _token_file(cls, value: Path | None) -> Path | None:
        if value is None:
            return None
        path = value.expanduser()
        problem = _token_problem(_read_token(path))
        if problem:
            raise ValueError(f"the token in {path} {problem}")
        return path

    @model_validator(mode="after")
    def _one_way_in(self) -> HttpSection:
        if self.token is not None and self.token_file is not None:
            raise ValueError("give http.token or http.token_file, not both")
        if self.report_anonymous and (self.token is not None or self.token_file is not None):
            raise ValueError("report_anonymous = true makes the token pointless: choose one")
        if self.token_file is not None:
            self.token = SecretStr(_read_token(self.token_file))
        if self.sign_in is not None and self.public_url is None:
            raise ValueError(
                "sign_in needs public_url: the address browsers reach the page at (Entra "
                "sends people back to public_url + /auth/callback)"
            )
        if self.sign_in is not None and not self.secure_cookies and not _local(self.public_url):
            raise ValueError(
                "sign_in over plain http is only for a page on this machine (127.0.0.1, "
                "localhost, [::1]): give public_url as https://, e.g. a reverse proxy's address"
            )
        return self


def _local(url: str | None) -> bool:
    """Whether ``url`` names this machine (a loopback host)."""
    return urlsplit(url or "").hostname in ("127.0.0.1", "localhost", "::1")


def _read_token(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise ValueError(f"cannot read {path}: {(why or str(exc)).lower()}") from None
