"""Where one request's tries stand, and the headers each try carries before its token."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from connectors.http.request import ApiRequest

__all__ = ["Tries"]


@dataclass(slots=True)
class Tries:
    """Where one request's tries stand: the Partner Center ids every try carries, the try
    count, and the one token refresh a 401 earns."""

    request_id: str
    correlation_id: str
    attempt: int = 0
    refreshed: bool = False
    force_refresh: bool = False

    @classmethod
    def of(cls, request: ApiRequest) -> Tries:
        """The first try of ``request``; ids are made for Partner Center requests only."""
        if not request.partner_center:
            return cls("", "")
        return cls(str(uuid.uuid4()), request.correlation_id or str(uuid.uuid4()))

    def headers(self, request: ApiRequest) -> dict[str, str]:
        """The headers of one try, before its token: the request's own (never an
        Authorization header on a pre-authenticated download) and Partner Center's ids."""
        headers = (
            {k: v for k, v in request.headers.items() if k.lower() != "authorization"}
            if request.pre_authenticated
            else dict(request.headers)
        )
        if request.partner_center:
            headers["MS-RequestId"] = self.request_id
            headers["MS-CorrelationId"] = self.correlation_id
            headers["MS-Contract-Version"] = "v1"
        return headers
