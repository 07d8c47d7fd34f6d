"""Where each Microsoft API lives, as one frozen value passed to every live connector.

URLs and token resources are separate on purpose: the emulator serves every API from one local
origin while the tokens are still asked for the real resource ids (``https://graph.microsoft.com``
...), and a sovereign cloud changes both. Nothing else in ``connectors`` spells a host name.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from urllib.parse import urlsplit

PUBLIC_AUTHORITY_HOST = "https://login.microsoftonline.com"
PUBLIC_PARTNER_CENTER = "https://api.partnercenter.microsoft.com"
PUBLIC_GRAPH = "https://graph.microsoft.com"
PUBLIC_ARM = "https://management.azure.com"
INSIGHTS_PATH = "/insights/v1/mpn"


def _base(url: str) -> str:
    """An absolute https/http base URL without a trailing slash; anything else is refused."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise ValueError(f"expected an absolute URL such as https://host, not {url!r}")
    if parts.query or parts.fragment:
        raise ValueError(f"a base URL carries no query or fragment: {url!r}")
    return url.rstrip("/")


@dataclass(frozen=True, slots=True, kw_only=True)
class CloudEndpoints:
    """Base URLs of the APIs and the resource ids their tokens are issued for.

    ``partner_center`` is the host without ``/v1``; ``insights`` is the full insights base
    (``<partner center>/insights/v1/mpn``). Every field may be overridden.
    """

    authority_host: str = PUBLIC_AUTHORITY_HOST
    partner_center: str = PUBLIC_PARTNER_CENTER
    graph: str = PUBLIC_GRAPH
    arm: str = PUBLIC_ARM
    insights: str = PUBLIC_PARTNER_CENTER + INSIGHTS_PATH
    partner_center_resource: str = PUBLIC_PARTNER_CENTER
    graph_resource: str = PUBLIC_GRAPH
    arm_resource: str = PUBLIC_ARM

    def __post_init__(self) -> None:
        for name in ("authority_host", "partner_center", "graph", "arm", "insights"):
            object.__setattr__(self, name, _base(getattr(self, name)))

    @classmethod
    def public(cls) -> CloudEndpoints:
        """Microsoft's public (worldwide) cloud."""
        return cls()

    @classmethod
    def single_origin(cls, origin: str, *, authority_host: str | None = None) -> CloudEndpoints:
        """Every API served from one origin (the emulator); token resources stay the real ones."""
        base = _base(origin)
        return cls(
            authority_host=authority_host or base,
            partner_center=base,
            graph=base,
            arm=base,
            insights=base + INSIGHTS_PATH,
        )

    def with_overrides(self, **urls: str) -> CloudEndpoints:
        """A copy with some fields replaced (names as the fields)."""
        return replace(self, **urls)

    @property
    def partner_center_v1(self) -> str:
        """The Partner Center REST base that its relative ``links`` are resolved against."""
        return self.partner_center + "/v1"
