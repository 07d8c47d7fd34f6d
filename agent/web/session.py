"""Signed cookies: the session of a signed-in person and the sign-in in flight, each an HMAC-
SHA256-signed JSON value under one key (``[http.sign_in] session_key_file``, else a random key
made at start), with the purpose in the signature so that one cannot stand for the other.

A session names who signed in, their role, when it ends and the roles configuration it was
granted under; it is honoured until it ends, or until the key or the configured roles change.
Each session has its CSRF token: an HMAC of its random id, put in every form and compared in
constant time on every POST (the synchronizer token pattern, bound to the session).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from agent.web.roles import Identity, Role

COOKIE_LIMIT = 3000
"""Bytes a cookie value may have; browsers keep about 4 KB per cookie."""


@dataclass(frozen=True, slots=True)
class Session:
    sid: str
    who: Identity
    role: Role
    ends: datetime

    @property
    def can_act(self) -> bool:
        return self.role is Role.OPERATOR


class Signer:
    """Signs and checks small JSON values for one purpose each."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 32:
            raise ValueError("a signing key needs 32 bytes or more")
        self._key = key

    def dumps(self, purpose: str, data: dict[str, Any]) -> str:
        body = _b64(json.dumps(data, separators=(",", ":"), ensure_ascii=True).encode("ascii"))
        return f"{body}.{self._mac(purpose, body)}"

    def loads(self, purpose: str, value: str | None) -> dict[str, Any] | None:
        """The data signed for ``purpose``, or None (absent, altered, another purpose)."""
        if not value or len(value) > COOKIE_LIMIT or value.count(".") != 1:
            return None
        body, mac = value.split(".")
        if not _same(mac, self._mac(purpose, body)):
            return None
        try:
            data = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
        except ValueError:
            return None
        return data if isinstance(data, dict) else None

    def token(self, purpose: str, value: str) -> str:
        return self._mac(purpose, value)

    def _mac(self, purpose: str, body: str) -> str:
        digest = hmac.new(self._key, f"{purpose}\n{body}".encode(), hashlib.sha256).digest()
        return _b64(digest)


class Sessions:
    """Sessions sealed in a cookie and opened from it."""

    def __init__(self, signer: Signer, lifetime: timedelta, roles_digest: str) -> None:
        self.signer = signer
        self.lifetime = lifetime
        self.roles_digest = roles_digest

    def seal(self, who: Identity, role: Role, now: datetime) -> tuple[Session, str]:
        session = Session(secrets.token_urlsafe(18), who, role, now + self.lifetime)
        data = {
            "sid": session.sid,
            "name": who.name[:120],
            "upn": who.upn,
            "oid": who.oid,
            "role": role.value,
            "ends": int(session.ends.timestamp()),
            "roles": self.roles_digest,
        }
        return session, self.signer.dumps("session", data)

    def open(self, cookie: str | None, now: datetime) -> Session | None:
        """The session a cookie holds; None when absent, altered, ended or granted under other
        roles."""
        data = self.signer.loads("session", cookie)
        if data is None or data.get("roles") != self.roles_digest:
            return None
        try:
            ends = datetime.fromtimestamp(int(data["ends"]), tz=now.tzinfo)
            who = Identity(str(data["name"]), str(data["upn"]), str(data["oid"]))
            session = Session(str(data["sid"]), who, Role(data["role"]), ends)
        except (KeyError, TypeError, ValueError):
            return None
        return session if now < session.ends else None

    def csrf(self, session: Session) -> str:
        """The session's CSRF token."""
        return self.signer.token("csrf", session.sid)

    def csrf_ok(self, session: Session, presented: str | None) -> bool:
        return _same(presented or "", self.csrf(session))


def _same(presented: str, expected: str) -> bool:
    """Constant-time equality of a presented value (any text) and an expected ASCII one."""
    return hmac.compare_digest(presented.encode("utf-8", "replace"), expected.encode("ascii"))


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")
