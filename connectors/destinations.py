"""Where a request may go: public addresses only, and a download link only to a public https host.

A pre-authenticated download (a Graph report's redirect, an insights ``reportAccessSecureLink``)
is a URL written into an answer, so it is checked before any request goes to it: https, a DNS
name (no IP literal, no local name, no user-info), and a host every address of which is public
(never loopback, private, link-local such as the cloud metadata address 169.254.169.254, CGNAT or
unique-local). The certificate is verified against that name, so an address that changed after
the check would have to present a certificate for it. The alert sinks classify addresses with the
same functions.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable, Sequence

import httpx

from connectors.errors import MalformedResponse, TransientError

__all__ = [
    "AsyncResolver",
    "DownloadGuard",
    "IPAddress",
    "Resolver",
    "address_problem",
    "async_system_resolver",
    "forbidden_reason",
    "is_ip_literal",
    "is_local_name",
    "origin_of",
    "system_resolver",
]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Sequence[str]]
"""``(host, port) -> addresses``; raises ``OSError`` when the name does not resolve."""
AsyncResolver = Callable[[str, int], Awaitable[Sequence[str]]]

_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_UNIQUE_LOCAL = ipaddress.ip_network("fc00::/7")
_METADATA = ipaddress.ip_address("169.254.169.254")
_LOCAL_SUFFIXES = (".localhost", ".local", ".internal")


def forbidden_reason(ip: IPAddress) -> str | None:
    """Why an address must not be dialled on an answer's word, or ``None`` if it is public."""
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
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    else:
        return True
    try:
        socket.inet_aton(host)
    except OSError:
        return False
    return True


def is_local_name(host: str) -> bool:
    """``localhost`` and the suffixes only a local network answers for."""
    host = host.lower().rstrip(".")
    return host == "localhost" or host.endswith(_LOCAL_SUFFIXES)


def address_problem(host: str, addresses: Sequence[str]) -> str | None:
    """Why ``host`` must not be dialled given what it resolved to, or ``None``: ANY forbidden
    address is enough (one bad answer of several is all a pivot needs)."""
    for address in addresses:
        try:
            ip = ipaddress.ip_address(address.split("%", 1)[0])
        except ValueError:
            return f"host {host!r} resolved to something that is not an address"
        reason = forbidden_reason(ip)
        if reason:
            return f"host {host!r} resolves to {reason}"
    return None


def system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


async def async_system_resolver(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


def origin_of(url: str | httpx.URL) -> str:
    """``scheme://host:port`` of a URL, the port spelled out (``https://127.0.0.1:8443``)."""
    parsed = httpx.URL(url)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    return f"{parsed.scheme}://{parsed.host.lower()}:{port}"


class DownloadGuard:
    """Checks a pre-authenticated download link before anything is sent to it.

    ``allow_origins`` lists origins (``https://127.0.0.1:8443``) let through unchecked: only
    the composition root passes one, the local emulator's own, which serves its downloads from
    a loopback address. Against Microsoft it is empty.
    """

    def __init__(
        self,
        *,
        allow_origins: Iterable[str] = (),
        resolve: AsyncResolver = async_system_resolver,
    ) -> None:
        self.allow_origins = frozenset(origin_of(o) for o in allow_origins)
        self.resolve = resolve

    async def check(self, url: str, what: str) -> None:
        """Return when ``url`` may be fetched; else raise :class:`MalformedResponse` (an answer
        pointing somewhere it must not) or :class:`TransientError` (its host does not resolve
        now). Messages name the host at most: the path and query are the credential."""
        try:
            parsed = httpx.URL(url)
        except (httpx.InvalidURL, TypeError):
            raise MalformedResponse(f"{what}: the download link is not a valid URL") from None
        allowed = parsed.scheme in ("http", "https") and parsed.host and not parsed.userinfo
        if allowed and origin_of(parsed) in self.allow_origins:
            return
        host = parsed.host.lower().rstrip(".")[:253]
        problem = self._shape_problem(parsed, host)
        if problem is None:
            try:
                addresses = await self.resolve(host, parsed.port or 443)
            except OSError:
                raise TransientError(
                    f"{what}: the download host {host!r} does not resolve"
                ) from None
            problem = address_problem(host, addresses) if addresses else "it has no address"
        if problem is not None:
            raise MalformedResponse(f"{what}: the download link was refused: {problem}")

    @staticmethod
    def _shape_problem(parsed: httpx.URL, host: str) -> str | None:
        if parsed.scheme != "https":
            return f"it is not https ({parsed.scheme or 'no scheme'}://)"
        if not host:
            return "it has no host"
        if parsed.userinfo:
            return "it carries credentials in its authority"
        if is_ip_literal(host):
            return f"its host is an IP address ({host}), not a name"
        if is_local_name(host):
            return f"host {host!r} is a local name"
        return None
