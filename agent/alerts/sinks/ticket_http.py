"""The one way a PSA sink calls its API: JSON in and out through the sink's guarded client,
every answer turned into a result or a delivery error that names neither a URL nor a
credential (guarantee no-secrets-out), and "no such ticket" told apart so the sink can open a
new one instead of failing for good.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from agent.alerts.errors import PermanentDeliveryError, error_for_exception, error_for_response
from agent.alerts.sinks.base import Clock


class TicketGone(PermanentDeliveryError):
    """The PSA answered 404 for a ticket the sink kept an id of: deleted or merged away."""


class MalformedAnswer(PermanentDeliveryError):
    """The PSA answered 2xx with a body that is not what its API documents."""


class JsonApi:
    """Requests to one PSA's API: a base URL, the headers every request carries, and the
    secret values an error message must never repeat."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        clock: Clock,
        secrets: tuple[str, ...],
        what: str,
    ) -> None:
        self.client = client
        self.clock = clock
        self.secrets = secrets
        self.what = what
        """The PSA's name, for error messages."""

    async def call(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str],
        params: Mapping[str, str] | None = None,
        body: Any = None,
        form: Mapping[str, str] | None = None,
        gone_on_404: bool = False,
    ) -> Any:
        """The parsed JSON answer (``None`` for an empty one); a delivery error otherwise."""
        try:
            response = await self.client.request(
                method,
                url,
                headers=dict(headers),
                params=dict(params) if params else None,
                json=body,
                data=dict(form) if form else None,
            )
        except httpx.HTTPError as exc:
            # `from None`: httpx's own message may carry the URL, and so would the chain.
            raise error_for_exception(exc, secrets=self.secrets) from None
        if gone_on_404 and response.status_code == 404:
            raise TicketGone(f"{self.what}: HTTP 404, the ticket is gone", status=404)
        error = error_for_response(response, secrets=self.secrets, now=self.clock())
        if error is not None:
            error.message = f"{self.what}: {error.message}"
            error.args = (error.message,)
            raise error
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise MalformedAnswer(
                f"{self.what}: HTTP {response.status_code} with a body that is not JSON",
                status=response.status_code,
            ) from None


def field(answer: Any, *path: str | int) -> Any:
    """``answer[path[0]][path[1]]…``, or ``MalformedAnswer`` naming the missing part."""
    node = answer
    for step in path:
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError):
            where = ".".join(str(p) for p in path)
            raise MalformedAnswer(f"the answer has no {where}") from None
    return node


def ticket_id(value: Any) -> str:
    """A ticket id as the store keeps it: a positive integer's digits."""
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit():
        raise MalformedAnswer("the answer's ticket id is not a number")
    return str(int(value))
