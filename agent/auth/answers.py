"""What MSAL answered, in the agent's terms: an :class:`AcquiredToken`, or an ``AuthError``
that carries the AADSTS code and the correlation id and never a configured secret."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from connectors.errors import AuthError, MalformedResponse, aadsts_code

Logger = Any
"""A structlog bound logger (structlog's own type is not precise enough to be worth naming)."""


@dataclass(frozen=True, slots=True)
class AcquiredToken:
    """An access token and where it came from (``cache`` or ``identity_provider``)."""

    access_token: str = field(repr=False)
    token_source: str
    expires_in: int | None


def failure_cause(exc: Exception) -> str:
    """What an error message may say of a failed sign-in call: the class name, or the agent's
    own words for an answer it refused (over its cap), never text that came from outside."""
    if isinstance(exc, MalformedResponse):
        return exc.message
    return type(exc).__name__


class MsalAnswers:
    """Turns MSAL's result dicts and exceptions into tokens and errors, and logs refusals.

    ``secrets`` are removed from any text bound for a log or an error; the list grows as
    refresh tokens rotate."""

    def __init__(self, secrets: list[str], log: Logger) -> None:
        self.secrets = secrets
        self.log = log

    def token(self, result: Mapping[str, Any] | None, what: str) -> AcquiredToken:
        """The token of a successful result; the error of any other."""
        if result and "access_token" in result:
            expires = result.get("expires_in")
            return AcquiredToken(
                access_token=str(result["access_token"]),
                token_source=str(result.get("token_source", "identity_provider")),
                expires_in=int(expires)
                if isinstance(expires, int | str) and str(expires).isdigit()
                else None,
            )
        raise self.error(result or {}, what)

    def error(self, result: Mapping[str, Any], what: str) -> AuthError:
        """An MSAL error dict as an :class:`AuthError`: code and correlation id, no secrets."""
        codes = result.get("error_codes")
        aadsts = None
        if isinstance(codes, list) and codes:
            aadsts = f"AADSTS{codes[0]}"
        description = str(result.get("error_description") or "")
        aadsts = aadsts or aadsts_code(description)
        summary = description.splitlines()[0] if description else ""
        if aadsts and summary.startswith(aadsts):
            summary = summary[len(aadsts) :].lstrip(": ")
        summary = self.clean(summary)[:200]
        error = str(result.get("error") or "error")
        message = f"{what} refused: {error}" + (f" ({summary})" if summary else "")
        correlation = result.get("correlation_id")
        self.log.warning(
            "token_refused", what=what, error=error, aadsts=aadsts, correlation_id=correlation
        )
        return AuthError(
            message, aadsts=aadsts, correlation_id=str(correlation) if correlation else None
        )

    def unreachable(self, what: str, exc: Exception) -> AuthError:
        """No answer, or no usable one, from the identity platform: no token can be had
        (the TokenProvider contract), with the cause's class name and nothing of its text."""
        self.log.warning("token_unavailable", what=what, error=type(exc).__name__)
        return AuthError(
            f"{what}: the identity platform gave no usable answer ({failure_cause(exc)})"
        )

    def clean(self, text: str) -> str:
        """Remove any configured secret from text bound for a log or an error; escape CR/LF."""
        for secret in self.secrets:
            text = text.replace(secret, "***")
        return text.replace("\r", "\\r").replace("\n", "\\n")
