"""Who may do what on the daemon's page: a signed-in person's role, from ``[http.sign_in]``
``operators`` and ``viewers`` matched against the ID token's user principal name, object id
and group ids. Pure."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    VIEWER = "viewer"
    """Reads the report and the findings."""
    OPERATOR = "operator"
    """Reads, and acts on findings."""


@dataclass(frozen=True, slots=True)
class Identity:
    """Who signed in, as the ID token says."""

    name: str
    upn: str
    oid: str
    groups: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Roles:
    operators: tuple[str, ...]
    viewers: tuple[str, ...]

    @classmethod
    def of(cls, operators: Sequence[str], viewers: Sequence[str]) -> Roles:
        return cls(tuple(p.lower() for p in operators), tuple(p.lower() for p in viewers))

    def role_of(self, who: Identity) -> Role | None:
        """The highest role ``who`` holds, or None: not let in."""
        names = {who.upn.lower(), who.oid.lower(), *(g.lower() for g in who.groups)}
        if _holds(self.operators, names):
            return Role.OPERATOR
        if _holds(self.viewers, names):
            return Role.VIEWER
        return None

    def digest(self) -> str:
        """Changes whenever the lists do: a session signed under other lists is not honoured."""
        text = "|".join(("o", *sorted(self.operators), "v", *sorted(self.viewers)))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _holds(listed: Iterable[str], names: set[str]) -> bool:
    return any(entry == "*" or entry in names for entry in listed)
