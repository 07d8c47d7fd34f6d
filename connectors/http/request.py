"""One logical request to Microsoft, as the connectors describe it and the requester sends it:
the same object on every retry and on the 401 refresh.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["IDEMPOTENT_METHODS", "SOURCE_EXTENSION", "ApiRequest"]

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
SOURCE_EXTENSION = "partnerlink.source"
"""The request extension (never a header: nothing but Microsoft's own headers goes to Microsoft)
naming the source a request is made for. Only a transport that serves the local emulator reads
it; see :mod:`standin.emulator.hints`."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ApiRequest:
    """One logical request; retries and the 401 refresh re-send the same one.

    ``tenant_id``/``resource`` say which token to send (``None``: no Authorization, e.g. a
    pre-authenticated download). ``scope`` is the throttling scope. ``what`` names the read in
    error messages. ``partner_center`` adds ``MS-RequestId`` (the same on every retry),
    ``MS-CorrelationId`` and ``MS-Contract-Version``.
    """

    method: str
    url: str
    scope: str
    what: str
    tenant_id: str | None = None
    resource: str | None = None
    identity: str | None = None
    params: Mapping[str, str] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    json: Any = None
    partner_center: bool = False
    correlation_id: str | None = None
    idempotent: bool | None = None
    pre_authenticated: bool = False
    """The URL itself is the credential (a report download): no token or Authorization header
    is ever sent with it, it is fetched only from a public https host (the requester's
    :class:`~connectors.destinations.DownloadGuard`), its answer is held to the download cap,
    and (as for every URL) its query string is never logged."""
    source: str | None = None
    """The connector source the request is made for, when it reads another source's endpoint
    (PAL lists ``/subscriptions``): carried in the request's extensions, never on the wire."""

    @property
    def authenticated(self) -> bool:
        return (
            not self.pre_authenticated and self.tenant_id is not None and self.resource is not None
        )

    @property
    def safe_to_resend(self) -> bool:
        if self.idempotent is not None:
            return self.idempotent
        return self.method.upper() in IDEMPOTENT_METHODS
