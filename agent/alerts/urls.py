"""Webhook URL safety (guarantee safe-urls): a configured URL is an SSRF risk, so it is checked
twice.

At config load, :func:`check_url` refuses non-https URLs, IP literals, hosts outside an optional
allowlist and hosts that resolve to loopback, private, link-local (the cloud metadata address
169.254.169.254 among them), CGNAT or unique-local addresses. At connect time,
:class:`GuardedTransport` resolves the host again, refuses the same ranges and connects to the
very address it checked (Host header and TLS SNI keep the name), so a DNS answer that changes
after the check (rebinding) cannot redirect a request inward. Redirects are never followed.

Messages name the host at most, never the URL: its path or query is the credential. How an
address is classified is shared with the connectors' download links
(:mod:`connectors.destinations`).
"""

from __future__ import annotations

from collections.abc import Sequence

import httpx

from connectors.destinations import (
    AsyncResolver,
    IPAddress,
    Resolver,
    address_problem,
    async_system_resolver,
    forbidden_reason,
    is_ip_literal,
    is_local_name,
    system_resolver,
)

__all__ = [
    "AsyncResolver",
    "BlockedDestination",
    "GuardedTransport",
    "IPAddress",
    "Resolver",
    "UnsafeUrl",
    "async_system_resolver",
    "check_addresses",
    "check_url",
    "forbidden_reason",
    "guarded_client",
    "host_allowed",
    "is_ip_literal",
    "system_resolver",
]


class UnsafeUrl(ValueError):
    """A URL the agent refuses to send to; the message is safe to show (no path, no query)."""


class BlockedDestination(httpx.TransportError):
    """The connect-time check refused the address a host resolved to: retrying cannot help."""


def host_allowed(host: str, allow_hosts: Sequence[str]) -> bool:
    """``host`` equals an entry or is a subdomain of one; an empty list allows every host."""
    if not allow_hosts:
        return True
    host = host.lower().rstrip(".")
    return any(host == entry or host.endswith("." + entry) for entry in allow_hosts)


def _port(url: httpx.URL) -> int:
    return url.port or (443 if url.scheme == "https" else 80)


def check_addresses(host: str, addresses: Sequence[str]) -> None:
    """Refuse when ANY address of ``host`` is forbidden (one bad answer is enough to pivot)."""
    problem = address_problem(host, addresses)
    if problem:
        raise UnsafeUrl(f"{problem}; refused (guarantee safe-urls)")


def check_url(
    url: str,
    *,
    allow_private: bool = False,
    allow_hosts: Sequence[str] = (),
    resolve: Resolver | None = system_resolver,
) -> httpx.URL:
    """Validate a webhook URL at config load; returns it parsed.

    A host that does not resolve right now is accepted (DNS may be down while the config is
    checked); the connect-time check still guards every request.
    """
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        raise UnsafeUrl("not a valid URL") from None
    host = (parsed.host or "").lower().rstrip(".")
    if allow_private:
        if parsed.scheme not in ("http", "https") or not host:
            raise UnsafeUrl("expected an http(s):// URL with a host")
        return parsed
    if parsed.scheme != "https":
        raise UnsafeUrl("expected an https:// URL")
    if not host:
        raise UnsafeUrl("the URL has no host")
    if parsed.userinfo:
        raise UnsafeUrl("credentials in the URL's authority are not supported")
    if is_ip_literal(host):
        raise UnsafeUrl("an IP address is not accepted as a webhook host; use a DNS name")
    if is_local_name(host):
        raise UnsafeUrl(f"host {host!r} is a local name; refused (guarantee safe-urls)")
    if not host_allowed(host, allow_hosts):
        raise UnsafeUrl(f"host {host!r} is not in alerts.allow_hosts")
    if resolve is not None:
        try:
            addresses = resolve(host, _port(parsed))
        except OSError:
            return parsed
        check_addresses(host, addresses)
    return parsed


class GuardedTransport(httpx.AsyncBaseTransport):
    """Resolve, check, then connect to the checked address (guarantee safe-urls at connect time).

    The request keeps its ``Host`` header and TLS uses the original name for SNI and
    certificate verification (httpcore's ``sni_hostname`` extension), so only the address the
    check approved is ever dialled.
    """

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport | None = None,
        *,
        allow_private: bool = False,
        resolve: AsyncResolver = async_system_resolver,
    ) -> None:
        self.inner = inner if inner is not None else httpx.AsyncHTTPTransport(retries=0)
        self.allow_private = allow_private
        self.resolve = resolve

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.allow_private:
            return await self.inner.handle_async_request(request)
        url = request.url
        host = (url.host or "").lower().rstrip(".")
        if url.scheme != "https":
            raise BlockedDestination("refused: not https (guarantee safe-urls)", request=request)
        if is_ip_literal(host):
            addresses: Sequence[str] = [host]
        else:
            try:
                addresses = await self.resolve(host, _port(url))
            except OSError as exc:
                raise httpx.ConnectError(f"cannot resolve {host!r}", request=request) from exc
        if not addresses:
            raise httpx.ConnectError(f"cannot resolve {host!r}", request=request)
        try:
            check_addresses(host, addresses)
        except UnsafeUrl as exc:
            raise BlockedDestination(str(exc), request=request) from None
        pinned = httpx.Request(
            request.method,
            url.copy_with(host=addresses[0]),
            headers=request.headers,  # carries Host: the original name
            stream=request.stream,
            extensions={**request.extensions, "sni_hostname": host},
        )
        return await self.inner.handle_async_request(pinned)

    async def aclose(self) -> None:
        await self.inner.aclose()


def guarded_client(
    *,
    allow_private: bool = False,
    timeout: float = 10.0,
    transport: httpx.AsyncBaseTransport | None = None,
    resolve: AsyncResolver = async_system_resolver,
) -> httpx.AsyncClient:
    """The one way alerting builds an HTTP client: guarded, no redirects, no env proxies."""
    return httpx.AsyncClient(
        transport=GuardedTransport(transport, allow_private=allow_private, resolve=resolve),
        follow_redirects=False,
        timeout=httpx.Timeout(timeout),
        trust_env=False,
        headers={"User-Agent": "partnerlink-alerts/1"},
    )
