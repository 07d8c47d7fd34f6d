"""The HTTP client MSAL signs in through: an ``httpx.Client`` in the shape MSAL expects, with
every answer from the identity platform read under a size cap."""

from __future__ import annotations

from typing import Any

import httpx

from connectors.http.body import ACCEPT_ENCODING, DEFAULT_MAX_BODY, bounded_response, read_body_sync


class MsalHttpClient:
    """An ``httpx.Client`` in the shape MSAL's ``http_client`` expects.

    MSAL passes the signed client assertion as ``bytes`` in the form data; ``requests`` encodes
    bytes values, httpx would send their ``repr`` (``b'eyJ...'``) and Entra would refuse the
    assertion (AADSTS50027). Bytes are decoded here. Every answer is streamed under
    ``max_body`` bytes, on the wire and decoded (:mod:`connectors.answers`); a larger one raises
    :class:`~connectors.errors.MalformedResponse`. The caller owns (and closes) the client.
    """

    def __init__(self, client: httpx.Client, *, max_body: int = DEFAULT_MAX_BODY) -> None:
        self.client = client
        self.max_body = max_body

    def post(
        self, url: str, params: Any = None, data: Any = None, headers: Any = None, **kwargs: Any
    ) -> httpx.Response:
        if isinstance(data, dict):
            data = {k: v.decode("utf-8") if isinstance(v, bytes) else v for k, v in data.items()}
        return self._send("POST", url, params=params, data=data, headers=headers, **kwargs)

    def get(
        self, url: str, params: Any = None, headers: Any = None, **kwargs: Any
    ) -> httpx.Response:
        return self._send("GET", url, params=params, headers=headers, **kwargs)

    def _send(self, method: str, url: str, *, headers: Any, **kwargs: Any) -> httpx.Response:
        wanted = {**dict(headers or {}), "Accept-Encoding": ACCEPT_ENCODING}
        request = self.client.build_request(method, url, headers=wanted, **kwargs)
        response = self.client.send(request, stream=True)
        try:
            body = read_body_sync(response, self.max_body, request.url.host)
        finally:
            response.close()
        return bounded_response(response, body)

    def close(self) -> None:
        """MSAL may close its client; the httpx client belongs to the caller."""
