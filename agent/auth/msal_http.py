"""The HTTP client MSAL signs in through: an ``httpx.Client`` in the shape MSAL expects, with
every answer from the identity platform read under a size cap."""

from __future__ import annotations

import codecs
import email.message
from functools import lru_cache
from typing import Any
from urllib.parse import quote_plus

import httpx
from msal.exceptions import MsalServiceError

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


_quoted = lru_cache(maxsize=256)(quote_plus)
"""``quote_plus`` of a form's names and values: the same client ids, scopes and grant types
come again and again."""


def _form(data: dict[str, Any]) -> bytes:
    """``data`` URL-encoded as httpx encodes ``data=`` (``urlencode`` of its pairs)."""
    pairs: list[str] = []
    for key, value in data.items():
        name = _quoted(str(key))
        items = value if isinstance(value, list | tuple) else (value,)
        pairs.extend(f"{name}={_quoted(_form_text(item))}" for item in items)
    return "&".join(pairs).encode("utf-8")


@lru_cache(maxsize=64)
def _text_encoding(content_type: str | None) -> str:
    """The encoding httpx decodes an answer's text in: the ``charset`` of its
    ``Content-Type`` when Python knows it, else UTF-8."""
    if not content_type or "charset" not in content_type.lower():
        return "utf-8"
    message = email.message.Message()
    message["content-type"] = content_type
    charset = message.get_content_charset(failobj=None)
    if charset is None:
        return "utf-8"
    try:
        codecs.lookup(charset)
    except LookupError:
        return "utf-8"
    return charset


class SignInAnswer:
    """An answer of the identity platform as MSAL reads it (``status_code``, ``headers``,
    ``text``), read whole under the cap without building an ``httpx.Response``."""

    __slots__ = ("content", "headers", "status_code")

    def __init__(self, status_code: int, headers: RawHeaders, content: bytes) -> None:
        self.status_code = status_code
        self.headers = headers
        self.content = content

    @property
    def text(self) -> str:
        encoding = _text_encoding(self.headers.get("Content-Type"))
        return self.content.decode(encoding, errors="replace")

    def raise_for_status(self) -> None:
        """As MSAL's own answers do."""
        if self.status_code >= 400:
            raise MsalServiceError(
                f"HTTP Error: {self.status_code}", error=None, error_description=None
            )


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
    ) -> httpx.Response | SignInAnswer:
        if isinstance(data, dict):
            data = {k: v.decode("utf-8") if isinstance(v, bytes) else v for k, v in data.items()}
        return self._send("POST", url, params=params, data=data, headers=headers, **kwargs)

    def get(
        self, url: str, params: Any = None, headers: Any = None, **kwargs: Any
    ) -> httpx.Response | SignInAnswer:
        return self._send("GET", url, params=params, headers=headers, **kwargs)

    def _send(
        self, method: str, url: str, *, headers: Any, params: Any = None, **kwargs: Any
    ) -> httpx.Response | SignInAnswer:
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
    ) -> SignInAnswer:
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
        kept = framing_removed(head.headers, content)
        if kept is not head.headers:  # as httpx states the length of a body it was handed
            kept.append((b"Content-Length", str(len(content)).encode("ascii")))
        return SignInAnswer(head.status, RawHeaders(kept), content)

    def close(self) -> None:
        """MSAL may close its client; the httpx client belongs to the caller."""
