"""The one HTTP client of the live connectors: TLS against the system store or a given CA, no
redirects followed, only the encodings the agent inflates in bounded steps, and a pool of
connections kept alive for a busy sync.
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Callable
from importlib import metadata
from typing import Any, Literal

import httpx

from connectors.http.body import ACCEPT_ENCODING
from connectors.http.sync_transport import SyncHttp11Transport
from connectors.http.transport import Http11Transport

__all__ = [
    "ENGINES",
    "USER_AGENT",
    "ApiClient",
    "Engine",
    "SignInClient",
    "make_client",
    "make_sign_in_client",
]

Engine = Literal["partnerlink", "httpx"]
ENGINES: tuple[Engine, ...] = ("partnerlink", "httpx")
"""The HTTP/1.1 transports under the clients: ``partnerlink``, the agent's own
(:mod:`connectors.http.transport`: less CPU per request, strict framing checks), or
``httpx``, httpx's own (httpcore and h11), kept as the fallback should an answer trip the
former (``[sync] http_transport``)."""


def _version() -> str:
    try:
        return metadata.version("partnerlink")
    except metadata.PackageNotFoundError:
        return "0"


USER_AGENT = f"partnerlink/{_version()}"


def make_sign_in_client(
    ca_bundle: str | os.PathLike[str] | None = None,
    timeout: float = 30.0,
    engine: Engine = "partnerlink",
) -> httpx.Client:
    """The synchronous client MSAL signs in through: TLS as :func:`make_client`, no redirects,
    kept-alive connections (:mod:`connectors.http.sync_transport`, or httpx's own), no cookies
    (:class:`SignInClient`)."""
    context = (
        ssl.create_default_context(cafile=os.fspath(ca_bundle))
        if ca_bundle is not None
        else ssl.create_default_context()
    )
    transport: httpx.BaseTransport = (
        SyncHttp11Transport(context)
        if engine == "partnerlink"
        else httpx.HTTPTransport(verify=context)
    )
    return SignInClient(transport, verify=context, timeout=timeout, follow_redirects=False)


def make_client(
    ca_bundle: str | os.PathLike[str] | None = None,
    timeout: float | httpx.Timeout = 30.0,
    user_agent: str = USER_AGENT,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    connections: int = 64,
    wrap: Callable[[httpx.AsyncBaseTransport], httpx.AsyncBaseTransport] | None = None,
    engine: Engine = "partnerlink",
) -> httpx.AsyncClient:
    """The one ``httpx.AsyncClient`` of the live connectors.

    TLS verifies against the system store, or only against ``ca_bundle`` when given (the
    emulator's CA). Redirects are not followed: the only one we expect (a Graph report) must be
    followed *without* the Authorization header and only to a public https host, which
    :mod:`connectors.graph.reports` does itself through the requester. Only the encodings the
    agent inflates in bounded steps are asked for (:mod:`connectors.http.body`).
    Up to ``connections`` connections are opened and every one is kept alive: httpx keeps only
    20 by default, so a busier sync would pay a TLS handshake for most of its requests.
    ``wrap``, when given, wraps the transport (the local emulator's source hints). No cookie
    is kept (:class:`ApiClient`). ``engine`` picks the transport (:data:`ENGINES`).
    """
    context = (
        ssl.create_default_context(cafile=os.fspath(ca_bundle))
        if ca_bundle is not None
        else ssl.create_default_context()
    )
    inner = transport or (
        Http11Transport(context, connections)
        if engine == "partnerlink"
        else httpx.AsyncHTTPTransport(
            verify=context,
            limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
        )
    )
    outer = wrap(inner) if wrap is not None else inner
    return ApiClient(
        outer,
        verify=context,
        timeout=timeout,
        headers={
            "User-Agent": user_agent,
            "Accept": "application/json",
            "Accept-Encoding": ACCEPT_ENCODING,
        },
        follow_redirects=False,
    )


class _NoCookies(httpx.Cookies):
    """Cookies that are never read from an answer nor sent with a request."""

    def extract_cookies(self, response: httpx.Response) -> None:
        return None

    def set_cookie_header(self, request: httpx.Request) -> None:
        return None


_NO_COOKIES = _NoCookies()


class _Cookieless:
    """A client that keeps no cookies: those handed to it and those answers set are dropped."""

    @property
    def cookies(self) -> httpx.Cookies:
        return _NO_COOKIES

    @cookies.setter
    def cookies(self, cookies: object) -> None:
        """Cookies handed to the client are not kept either."""


def _native(transport: Any) -> Any:
    """``transport`` where it also sends a request below httpx (it has ``exchange``)."""
    return transport if callable(getattr(transport, "exchange", None)) else None


class ApiClient(_Cookieless, httpx.AsyncClient):
    """The connectors' ``httpx.AsyncClient``: it keeps no cookies. Microsoft's APIs are called
    with a bearer token, so a cookie one answer sets has no business riding along on the next
    request (to another customer's tenant, perhaps); and not reading ``Set-Cookie`` spares a
    parse of every answer's headers.

    ``native`` is its transport when that sends a request below httpx too
    (:class:`~connectors.http.fetch.Exchanger`): the requester's tries go that way."""

    def __init__(self, transport: httpx.AsyncBaseTransport, **kwargs: Any) -> None:
        super().__init__(transport=transport, **kwargs)
        self.native: httpx.AsyncBaseTransport | None = _native(transport)


class SignInClient(_Cookieless, httpx.Client):
    """The sign-in ``httpx.Client``: it keeps no cookies either (a cookie one tenant's sign-in
    sets has no business riding along on the next tenant's). ``native`` is its transport when
    that sends a request below httpx too (``agent.auth.msal_http`` sends MSAL's calls so)."""

    def __init__(self, transport: httpx.BaseTransport, **kwargs: Any) -> None:
        super().__init__(transport=transport, **kwargs)
        self.native: httpx.BaseTransport | None = _native(transport)
