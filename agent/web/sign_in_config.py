"""``[http.sign_in]``: people sign in to the daemon's page with Microsoft Entra ID (the OAuth
authorization-code flow with PKCE, through MSAL) to read it and act on findings.

Roles come from here: ``operators`` act (ack, snooze, assign, dismiss, reopen), ``viewers``
read. Each list names people by user principal name, by object id, or by the object id of an
Entra group they are in (the ID token's ``groups`` claim: turn it on in the app registration's
token configuration); ``"*"`` is everyone in the tenant. The app's client secret and the key
that signs session cookies are secrets: from a file or the environment, never printed.
"""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from agent.durations import parse_duration

Duration = Annotated[timedelta, Field(json_schema_extra={"type": "string"})]

_GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_UPN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
SESSION_KEY_MIN = 32


class SignInSection(BaseModel):
    """``[http.sign_in]``: Entra ID sign-in to the daemon's page, and who may do what there."""

    model_config = ConfigDict(extra="forbid", validate_default=True)

    client_id: str = Field(description="The app registration people sign in through.")
    client_secret: SecretStr | None = Field(default=None, description="Better: the file.")
    client_secret_file: Path | None = Field(default=None, description="File holding it.")
    tenant_id: str | None = Field(
        default=None, description="The tenant people sign in to; default: [partner] tenant_id."
    )
    operators: list[str] = Field(default=[], description="Who may act on findings.")
    viewers: list[str] = Field(default=[], description="Who may read the page.")
    session_lifetime: Duration = Field(default=timedelta(hours=8))
    session_key_file: Path | None = Field(
        default=None,
        description="The key that signs session cookies (32+ characters); without it a new "
        "one is made at every start, and everyone signs in again.",
    )
    session_key: SecretStr | None = Field(default=None, exclude=True)
    """The key read from ``session_key_file`` (or given as PARTNERLINK_HTTP__SIGN_IN__…)."""

    _d = field_validator("session_lifetime", mode="before")(lambda cls, v: parse_duration(v))

    @field_validator("client_id", "tenant_id")
    @classmethod
    def _guid(cls, value: str | None) -> str | None:
        if value is not None and not _GUID.match(value.strip().lower()):
            raise ValueError("expected a GUID like 00000000-0000-0000-0000-000000000000")
        return value.strip().lower() if value is not None else None

    @field_validator("operators", "viewers")
    @classmethod
    def _people(cls, values: list[str]) -> list[str]:
        people = [v.strip().lower() for v in values]
        for who in people:
            if who != "*" and not (_GUID.match(who) or _UPN.match(who)):
                raise ValueError(
                    f"{who!r}: expected a user principal name (ana@contoso.com), an object id "
                    'or group id (a GUID), or "*" for everyone in the tenant'
                )
        return people

    @field_validator("session_lifetime")
    @classmethod
    def _lifetime(cls, value: timedelta) -> timedelta:
        if not timedelta(minutes=5) <= value <= timedelta(days=7):
            raise ValueError("expected a duration between 5m and 7d")
        return value

    @model_validator(mode="after")
    def _complete(self) -> SignInSection:
        if self.client_secret is not None and self.client_secret_file is not None:
            raise ValueError("give client_secret or client_secret_file, not both")
        if self.client_secret_file is not None:
            self.client_secret = SecretStr(_read(self.client_secret_file, "client_secret_file"))
        if self.client_secret is None or not self.client_secret.get_secret_value().strip():
            raise ValueError("the app's client_secret_file (or client_secret) is missing")
        if not self.operators and not self.viewers:
            raise ValueError("name at least one of operators or viewers: nobody could sign in")
        if self.session_key_file is not None:
            self.session_key = SecretStr(_read(self.session_key_file, "session_key_file"))
        if self.session_key is not None and len(self.session_key.get_secret_value()) < 32:
            raise ValueError(
                f"the session key is shorter than {SESSION_KEY_MIN} characters: "
                "expected e.g. `openssl rand -hex 32`"
            )
        return self


def _read(path: Path, key: str) -> str:
    try:
        text = path.expanduser().read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise ValueError(f"{key}: cannot read {path}: {(why or str(exc)).lower()}") from None
    if not text:
        raise ValueError(f"{key}: {path} is empty")
    return text
