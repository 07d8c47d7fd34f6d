"""Where each Microsoft API lives, as one frozen value passed to every live connector.

URLs and token resources are separate on purpose: the emulator serves every API from one local
origin while the tokens are still asked for the real resource ids (``https://graph.microsoft.com``
...), and a sovereign cloud changes both. Nothing else in ``connectors`` spells a host name.

The clouds (:data:`CLOUDS`) are Microsoft's published roots, sign-in and every API together:

* Microsoft Entra sign-in and Microsoft Graph per national cloud: "Microsoft Graph national cloud
  deployments", https://learn.microsoft.com/graph/deployments (a scope naming Graph must use the
  national Graph host: https://learn.microsoft.com/graph/sdks/national-clouds).
* Partner Center: "Different Partner Center REST URL end points",
  https://learn.microsoft.com/partner-center/developer/partner-center-rest-urls (the US Government
  cloud's Partner Center answers at the public host; 21Vianet's at its own).
* Azure Resource Manager: the Partner Center PowerShell module's environments
  (microsoft/Partner-Center-PowerShell, ``EnvironmentConstants.cs``):
  ``management.usgovcloudapi.net`` and ``management.chinacloudapi.cn``.
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
    def cloud(cls, name: str) -> CloudEndpoints:
        """A national cloud by its preset name (:data:`CLOUDS`): every URL and every token
        resource; ``KeyError`` for a name that is none."""
        return CLOUDS[name]

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


def _national(login: str, partner_center: str, graph: str, arm: str) -> CloudEndpoints:
    """A cloud whose token resources are its API hosts (so every scope is ``<host>/.default``)."""
    return CloudEndpoints(
        authority_host=login,
        partner_center=partner_center,
        graph=graph,
        arm=arm,
        insights=partner_center + INSIGHTS_PATH,
        partner_center_resource=partner_center,
        graph_resource=graph,
        arm_resource=arm,
    )


CLOUDS: dict[str, CloudEndpoints] = {
    "public": CloudEndpoints(),
    "usgov": _national(
        "https://login.microsoftonline.us",
        PUBLIC_PARTNER_CENTER,
        "https://graph.microsoft.us",
        "https://management.usgovcloudapi.net",
    ),
    "china": _national(
        "https://login.chinacloudapi.cn",
        "https://partner.partnercenterapi.microsoftonline.cn",
        "https://microsoftgraph.chinacloudapi.cn",
        "https://management.chinacloudapi.cn",
    ),
}
"""Every cloud the ``[cloud] preset`` names: Microsoft's worldwide cloud, the Microsoft Cloud for
US Government, and Microsoft Azure and Microsoft 365 operated by 21Vianet (sources: the module's
docstring)."""


def cloud_of(url: str) -> str | None:
    """The preset whose sign-in or API host ``url`` names (``None``: a host of no known cloud,
    such as a proxy or the emulator)."""
    host = (urlsplit(url).hostname or "").lower()
    if host == urlsplit(PUBLIC_PARTNER_CENTER).hostname:
        return None  # the US Government cloud answers Partner Center at the public host too
    for name, cloud in CLOUDS.items():
        urls = (cloud.authority_host, cloud.partner_center, cloud.graph, cloud.arm)
        if any(host == (urlsplit(u).hostname or "") for u in urls):
            return name
    return None
