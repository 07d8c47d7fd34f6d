"""Who hears what the requester does: every try and every throttling wait, by API, so the agent
can count them without the connectors knowing the agent.
"""

from __future__ import annotations

from typing import Protocol

__all__ = ["NO_OBSERVER", "RequestObserver", "api_of"]


class RequestObserver(Protocol):
    """Hears what the requester does, for metrics; this package never imports the agent.

    ``api`` is one of a handful of names (:func:`api_of`), never a tenant or a URL, so a
    metric labelled with it stays small however large the estate.
    """

    def request_done(self, api: str, status: int | str) -> None:
        """One try ended: its HTTP status, or ``"timeout"``/``"error"`` when no answer came."""

    def waited(self, api: str, seconds: float, why: str) -> None:
        """A request waited ``seconds`` before going out because of throttling: ``why`` is
        ``"retry_after"`` (a paused scope, or a ``Retry-After`` on a retry), ``"spacing"``
        (ARM budget running low) or ``"budget"`` (the client-side limits)."""


class _NoObserver:
    """The default observer: hears everything, keeps nothing."""

    def request_done(self, api: str, status: int | str) -> None:
        pass

    def waited(self, api: str, seconds: float, why: str) -> None:
        pass


NO_OBSERVER: RequestObserver = _NoObserver()

_APIS = {
    "pc": "partner_center",
    "graph": "graph",
    "arm": "arm",
    "insights": "insights",
    "graph-download": "download",
    "insights-download": "download",
}


def api_of(scope: str) -> str:
    """Which API a throttling scope (``pc:<tenant>``, ``graph:<tenant>:reports`` ...) belongs
    to: the family before the first colon, so no tenant or identity ever reaches a label."""
    return _APIS.get(scope.split(":", 1)[0], "other")
