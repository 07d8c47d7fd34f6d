"""The HTTP client MSAL signs in through: an ``httpx.Client`` in the shape MSAL expects, with
every answer from the identity platform read under a size cap."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import httpx

from connectors.http.answer import RawHeaders, framing_removed
from connectors.http.body import (
    ACCEPT_ENCODING,
    DEFAULT_MAX_BODY,
    BodyMeter,
    bounded_response,
    read_body_sync,
    read_stream_sync,
)
from connectors.http.fetch import Defaults, header_defaults, merged_headers
from connectors.http.target import target_of
from connectors.http.wire import WireRequest

_FORM = "application/x-www-form-urlencoded"


def _form_text(value: Any) -> str:
    """A form value as httpx writes it."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    return "" if value is None else str(value)


def _form(data: dict[str, Any]) -> bytes:
    """``data`` URL-encoded as httpx encodes ``data=``."""
    pairs: list[tuple[str, str]] = []
    for key, value in data.items():
        if isinstance(value, list | tuple):
            pairs.extend((key, _form_text(item)) for item in value)
        else:
            pairs.append((key, _form_text(value)))
    return urlencode(pairs, doseq=True).encode("utf-8")


class MsalHttpClient:
    """An ``httpx.Client`` in the shape MSAL's ``http_client`` expects.

    MSAL passes the signed client assertion as ``bytes`` in the form data; ``requests`` encodes
    bytes values, httpx would send their ``repr`` (``b'eyJ...'``) and Entra would refuse the
    assertion (AADSTS50027). Bytes are decoded here. Every answer is streamed under
    ``max_body`` bytes, on the wire and decoded (:mod:`connectors.answers`); a larger one raises
    :class:`~connectors.errors.MalformedResponse`. The caller owns (and closes) the client.

    On the sign-in client's own transport (:func:`connectors.http.client.make_sign_in_client`)
    a call goes below httpx (:meth:`SyncHttp11Transport.exchange
    <connectors.http.sync_transport.SyncHttp11Transport.exchange>`): the bytes httpx would send,
    without its request building, which cost more than the rest of the call.
    """

    def __init__(self, client: httpx.Client, *, max_body: int = DEFAULT_MAX_BODY) -> None:
        self.client = client
        self.max_body = max_body
        native = getattr(client, "native", None)
        self._native = native if callable(getattr(native, "exchange", None)) else None
        self._defaults: Defaults | None = None
        self._timeouts: dict[str, float | None] = {}

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

    def _send(
        self, method: str, url: str, *, headers: Any, params: Any = None, **kwargs: Any
    ) -> httpx.Response:
        wanted = {**dict(headers or {}), "Accept-Encoding": ACCEPT_ENCODING}
        data = kwargs.get("data")
        plain = set(kwargs) <= {"data"} and (data is None or isinstance(data, dict))
        if self._native is not None and plain and not params and "?" not in url:
            return self._below_httpx(method, url, wanted, data)
        request = self.client.build_request(method, url, headers=wanted, params=params, **kwargs)
        response = self.client.send(request, stream=True)
        try:
            body = read_body_sync(response, self.max_body, request.url.host)
        finally:
            response.close()
        return bounded_response(response, body)

    def _below_httpx(
        self, method: str, url: str, headers: dict[str, str], data: dict[str, Any] | None
    ) -> httpx.Response:
        """The call on the sign-in transport itself, as httpx would have made it: the client's
        headers under MSAL's, a form body with its length and type after them."""
        if self.client.is_closed:
            raise RuntimeError("Cannot send a request, as the client has been closed.")
        if self._defaults is None:
            self._defaults = header_defaults(self.client.headers)
            self._timeouts = self.client.timeout.as_dict()
        merged = merged_headers(self._defaults, headers)
        body = _form(data) if data else b""
        if data:
            present = {name.lower() for name, _value in merged}
            for name, value in (("Content-Length", str(len(body))), ("Content-Type", _FORM)):
                if name.lower() not in present:
                    merged.append((name, value))
        target = target_of(url)
        wire = WireRequest(method, url, target, merged, self._timeouts, body=body)
        assert self._native is not None
        head, stream = self._native.exchange(wire)
        try:
            read = RawHeaders(head.headers)
            meter = BodyMeter(read.get("Content-Encoding"), self.max_body, target.host)
            meter.check_declared(read.get("Content-Length"))
            content = read_stream_sync(meter, stream)
        finally:
            stream.close()
        return httpx.Response(
            head.status,
            headers=framing_removed(head.headers, content),
            content=content,
            request=httpx.Request(method, url),
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": head.reason},
        )

    def close(self) -> None:
        """MSAL may close its client; the httpx client belongs to the caller."""
