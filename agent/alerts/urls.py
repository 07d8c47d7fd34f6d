"""Webhook URL safety (R21): a configured URL is an SSRF risk, so it is checked twice.

At config load, :func:`check_url` refuses non-https URLs, IP literals, hosts outside an optional
allowlist and hosts that resolve to loopback, private, link-local (the cloud metadata address
169.254.169.254 among them), CGNAT or unique-local addresses. At connect time,
:class:`GuardedTransport` resolves the host again, refuses the same ranges and connects to the
very address it checked (Host header and TLS SNI keep the name), so a DNS answer that changes
after the check (rebinding) cannot redirect a request inward. Redirects are never followed.

Messages name the host at most, never the URL: its path or query is the credential.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Sequence

import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Sequence[str]]
"""``(host, port) -> addresses``; raises ``OSError`` when the name does not resolve."""
AsyncResolver = Callable[[str, int], Awaitable[Sequence[str]]]

_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_UNIQUE_LOCAL = ipaddress.ip_network("fc00::/7")
_METADATA = ipaddress.ip_address("169.254.169.254")


class UnsafeUrl(ValueError):
    """A URL the agent refuses to send to; the message is safe to show (no path, no query)."""


class BlockedDestination(httpx.TransportError):
    """The connect-time check refused the address a host resolved to: retrying cannot help."""


def forbidden_reason(ip: IPAddress) -> str | None:
    """Why an address must not be a webhook destination, or ``None`` if it is public."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return forbidden_reason(ip.ipv4_mapped)
    if ip == _METADATA:
        return "the link-local cloud metadata address"
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_unspecified:
        return "the unspecified address"
    if ip.is_link_local:
        return "a link-local address"
    if isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT:
        return "a carrier-grade NAT address (100.64.0.0/10)"
    if isinstance(ip, ipaddress.IPv6Address) and ip in _UNIQUE_LOCAL:
        return "a unique-local address (fc00::/7)"
    if ip.is_private:
        return "a private address"
    if ip.is_multicast:
        return "a multicast address"
    if ip.is_reserved or not ip.is_global:
        return "an address that is not publicly routable"
    return None


def is_ip_literal(host: str) -> bool:
    """Also catches the legacy forms ``getaddrinfo`` accepts (``2130706433``, ``0x7f.1``)."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return True
    try:
        socket.inet_aton(host)
    except OSError:
        return False
    return True


def host_allowed(host: str, allow_hosts: Sequence[str]) -> bool:
    """``host`` equals an entry or is a subdomain of one; an empty list allows every host."""
    if not allow_hosts:
        return True
    host = host.lower().rstrip(".")
    return any(host == entry or host.endswith("." + entry) for entry in allow_hosts)


def system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


async def async_system_resolver(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


def _port(url: httpx.URL) -> int:
    return url.port or (443 if url.scheme == "https" else 80)


def check_addresses(host: str, addresses: Sequence[str]) -> None:
    """Refuse when ANY address of ``host`` is forbidden (one bad answer is enough to pivot)."""
    for address in addresses:
        try:
            ip = ipaddress.ip_address(address.split("%", 1)[0])
        except ValueError:
            raise UnsafeUrl(f"host {host!r} resolved to something that is not an address") from None
        reason = forbidden_reason(ip)
        if reason:
            raise UnsafeUrl(f"host {host!r} resolves to {reason}; refused (R21)")


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
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        raise UnsafeUrl(f"host {host!r} is a local name; refused (R21)")
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
    """Resolve, check, then connect to the checked address (R21 at connect time).

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
            raise BlockedDestination("refused: not https (R21)", request=request)
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
