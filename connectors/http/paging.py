"""Listings read page by page in Microsoft's three paging styles (Partner Center seek paging,
Graph and ARM next links), raising instead of returning a short list: a listing either
completes or fails.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, replace
from typing import Any, Protocol
from urllib.parse import urlsplit

import structlog

from connectors.endpoints import CloudEndpoints
from connectors.errors import IncompleteListing, MalformedResponse, PermanentError
from connectors.http.redact import escape
from connectors.http.request import ApiRequest
from connectors.http.requester import Requester

__all__ = [
    "DEFAULT_MAX_PAGES",
    "ArmPaginator",
    "GraphPaginator",
    "Page",
    "Paginator",
    "PartnerCenterPaginator",
    "paginate",
]

log = structlog.get_logger()

DEFAULT_MAX_PAGES = 2000


@dataclass(frozen=True, slots=True)
class Page:
    """What one page of a listing holds: its items, how to get the next, the claimed total."""

    items: list[dict[str, Any]]
    next: ApiRequest | None
    total: int | None = None


class Paginator(Protocol):
    """A paging style: reads one page body and says where the next page is."""

    style: str

    def page(self, body: Mapping[str, Any], request: ApiRequest) -> Page: ...


def _items(body: Mapping[str, Any], key: str, what: str) -> list[dict[str, Any]]:
    items = body.get(key)
    if not isinstance(items, list):
        raise MalformedResponse(f"{what}: the page has no '{key}' list")
    for item in items:
        if not isinstance(item, dict):
            raise MalformedResponse(f"{what}: an item of '{key}' is not an object")
    return items


def _same_origin(url: str, base: str, what: str) -> str:
    """A next link must stay on the API's origin: the bearer token goes with it."""
    target, origin = urlsplit(url), urlsplit(base)
    if target.scheme not in ("https", "http") or not target.netloc:
        raise MalformedResponse(f"{what}: the next link is not an absolute URL")
    if (target.scheme, target.netloc.lower()) != (origin.scheme, origin.netloc.lower()):
        raise MalformedResponse(f"{what}: the next link leaves the API host")
    return url


def _total(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


class PartnerCenterPaginator:
    """Partner Center seek paging: ``links.next.uri`` (relative to ``/v1``) plus every
    ``links.next.headers[]`` entry (``MS-ContinuationToken``) as a header."""

    style = "partner_center"

    def __init__(self, endpoints: CloudEndpoints) -> None:
        self.v1 = endpoints.partner_center_v1

    def resolve(self, uri: str, what: str) -> str:
        """An absolute URL for a ``links`` uri: the docs show ``/v1/...``, ``/...`` and
        ``customers/...`` (no slash) for the same thing."""
        if "://" in uri:
            return _same_origin(uri, self.v1, what)
        path = uri.lstrip("/")
        if path.lower().startswith("v1/"):
            path = path[3:]
        return f"{self.v1}/{path}"

    def page(self, body: Mapping[str, Any], request: ApiRequest) -> Page:
        items = _items(body, "items", request.what)
        links = body.get("links")
        nxt = links.get("next") if isinstance(links, Mapping) else None
        following: ApiRequest | None = None
        if nxt is not None:
            if not isinstance(nxt, Mapping) or not isinstance(nxt.get("uri"), str):
                raise MalformedResponse(f"{request.what}: links.next has no uri")
            headers = {
                k: v for k, v in request.headers.items() if k.lower() != "ms-continuationtoken"
            }
            for entry in nxt.get("headers") or []:
                if not isinstance(entry, Mapping) or not isinstance(entry.get("key"), str):
                    raise MalformedResponse(f"{request.what}: a links.next header is malformed")
                headers[entry["key"]] = str(entry.get("value") or "")
            following = replace(
                request,
                url=self.resolve(nxt["uri"], request.what),
                params=None,
                headers=headers,
            )
        return Page(items, following, _total(body.get("totalCount")))


class GraphPaginator:
    """Microsoft Graph: ``value`` and an absolute ``@odata.nextLink``; ``@odata.count`` when
    the first request asked ``$count=true``."""

    style = "graph"

    def page(self, body: Mapping[str, Any], request: ApiRequest) -> Page:
        items = _items(body, "value", request.what)
        following = _absolute_next(body, "@odata.nextLink", request)
        return Page(items, following, _total(body.get("@odata.count")))


class ArmPaginator:
    """Azure Resource Manager: ``value`` and an absolute ``nextLink``."""

    style = "arm"

    def page(self, body: Mapping[str, Any], request: ApiRequest) -> Page:
        return Page(_items(body, "value", request.what), _absolute_next(body, "nextLink", request))


def _absolute_next(body: Mapping[str, Any], key: str, request: ApiRequest) -> ApiRequest | None:
    """The next request of a listing whose next link is an absolute URL on the same origin."""
    link = body.get(key)
    if link is None:
        return None
    if not isinstance(link, str):
        raise MalformedResponse(f"{request.what}: {key} is not a string")
    return replace(request, url=_same_origin(link, request.url, request.what), params=None)


def _page_key(
    request: ApiRequest,
) -> tuple[str, tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]:
    return (
        request.url,
        tuple(sorted((request.params or {}).items())),
        tuple(sorted(request.headers.items())),
    )


async def paginate(
    requester: Requester,
    first: ApiRequest,
    paginator: Paginator,
    *,
    max_pages: int = DEFAULT_MAX_PAGES,
) -> AsyncIterator[dict[str, Any]]:
    """Every item of a listing, page by page.

    Raises :class:`IncompleteListing` when the listing loops (a next link seen twice), runs past
    ``max_pages``, ends with fewer items than its claimed total, or a later page is refused
    permanently (an expired continuation); other errors of a page propagate as they are. A
    listing either completes or raises (guarantee whole-listing).
    """
    seen = {_page_key(first)}
    request = first
    pages = received = 0
    claimed: int | None = None
    while True:
        pages += 1
        try:
            body = await requester.get_json(request)
        except PermanentError as exc:
            # A continuation refused for good (an expired page token, a vanished cursor): the
            # listing cannot be finished. Auth, malformed and transient errors keep their kind.
            if pages == 1 or type(exc) is not PermanentError:
                raise
            raise IncompleteListing(
                f"{first.what}: page {pages} of the listing was refused ({exc})",
                status=exc.status,
                code=exc.code,
                request_id=exc.request_id,
            ) from exc
        page = paginator.page(body, request)
        received += len(page.items)
        if page.total is not None:
            claimed = page.total if claimed is None else max(claimed, page.total)
        for item in page.items:
            yield item
        if page.next is None:
            break
        key = _page_key(page.next)
        if key in seen:
            log.warning(
                "http_paging_loop", style=paginator.style, what=escape(first.what), pages=pages
            )
            raise IncompleteListing(f"{first.what}: the listing links back to a page it read")
        if pages >= max_pages:
            raise IncompleteListing(f"{first.what}: more than {max_pages} pages")
        seen.add(key)
        request = page.next
    if claimed is not None and claimed > received:
        raise IncompleteListing(
            f"{first.what}: the listing claims {claimed} items but {received} arrived"
        )
