"""The live connectors of one sync: each source's connector class makes its own from the sync's
context.

The composition root (``agent/app.py``) calls :func:`live_connectors` with the process's one HTTP
client and token provider; every connector shares one
:class:`~connectors.http.requester.Requester`, so a throttling pause of one scope holds for every
worker (guarantee retry-after), and one set of client-side budgets
(:class:`~connectors.ratelimit.MicrosoftLimits`, one limiter per Microsoft throttling scope), so
every worker together stays inside the documented limits.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from pathlib import Path

import httpx

from connectors.base import APP_USER, PARTNER_APP, Connector, TokenProvider
from connectors.context import LiveContext
from connectors.destinations import DownloadGuard
from connectors.endpoints import CloudEndpoints
from connectors.http.body import DEFAULT_CAPS, AnswerCaps
from connectors.http.observer import NO_OBSERVER, RequestObserver
from connectors.http.requester import Requester
from connectors.insights.queries import DEFAULT_QUERIES, InsightsQuery
from connectors.ratelimit import MicrosoftLimits
from connectors.records.scope import Source
from connectors.retry_after import DEFAULT_RETRY, RetryPolicy
from connectors.sources import LIVE
from connectors.timing import Sleep

DEFAULT_MAX_IN_FLIGHT = 64
"""Requests on the wire at once: enough to keep every scope busy at 100-300 ms of latency,
few enough for one process and one connection pool."""


def make_connectors(context: LiveContext, disabled: Iterable[str] = ()) -> list[Connector]:
    """Every source's live connectors, in the rows' order, but those ``disabled`` names."""
    skip = {Source(name) for name in disabled}
    return [c for live in LIVE if live.row.source not in skip for c in live.connect(context)]


def live_connectors(
    endpoints: CloudEndpoints,
    tokens: TokenProvider,
    client: httpx.AsyncClient,
    *,
    partner_tenant_id: str,
    identities: Mapping[str, str],
    app_user: bool,
    insights_folder: Path | None = None,
    audit_lookback_days: int = 30,
    retry: RetryPolicy = DEFAULT_RETRY,
    sleep: Sleep = asyncio.sleep,
    requester: Requester | None = None,
    insights_queries: tuple[InsightsQuery, ...] = DEFAULT_QUERIES,
    user_identity: str = APP_USER,
    disabled: Iterable[str] = (),
    time_scale: float = 1.0,
    max_in_flight: int | None = DEFAULT_MAX_IN_FLIGHT,
    observer: RequestObserver = NO_OBSERVER,
    caps: AnswerCaps = DEFAULT_CAPS,
    downloads: DownloadGuard | None = None,
) -> list[Connector]:
    """One connector per source (one per identity for ``arm.pal``), in the rows' order.

    ``identities`` maps every identity the agent signs in as (``partner-app`` included) to its
    app (client) id: ``arm.pal`` is read once per identity and ``graph.identities`` looks each
    one up. Without ``app_user`` the app+user-only sources are left out rather than failing every
    run: ``partner_center.usage`` always, ``insights.attribution`` unless ``insights_folder``
    (which, when given, is read instead of the insights API). ``disabled`` names sources to skip.
    Without a ``requester``, one is made from the other arguments (:func:`_shared_requester`).
    """
    if PARTNER_APP not in identities:
        raise ValueError(f"identities must include {PARTNER_APP!r} (the partner's own app)")
    shared = requester or _shared_requester(
        client, tokens, retry, sleep, time_scale, max_in_flight, observer, caps, downloads
    )
    context = LiveContext(
        requester=shared,
        endpoints=endpoints,
        partner_tenant_id=partner_tenant_id.lower(),
        identities=identities,
        app_user=app_user,
        insights_folder=insights_folder,
        audit_lookback_days=audit_lookback_days,
        insights_queries=insights_queries,
        user_identity=user_identity,
        sleep=sleep,
    )
    return make_connectors(context, disabled)


def _shared_requester(
    client: httpx.AsyncClient,
    tokens: TokenProvider,
    retry: RetryPolicy,
    sleep: Sleep,
    time_scale: float,
    max_in_flight: int | None,
    observer: RequestObserver,
    caps: AnswerCaps,
    downloads: DownloadGuard | None,
) -> Requester:
    """The requester every connector of a sync shares, made with Microsoft's documented limits
    (divided by ``time_scale``: 1 against Microsoft, the emulator's own factor against a scaled
    emulator) and at most ``max_in_flight`` requests on the wire at once, telling ``observer`` of
    every try and throttling wait (the agent's metrics), reading every answer under ``caps`` and
    following download links only where ``downloads`` allows (by default: public https hosts)."""
    return Requester(
        client,
        tokens,
        retry=retry,
        sleep=sleep,
        limits=MicrosoftLimits(time_scale=time_scale, sleep=sleep),
        max_in_flight=max_in_flight,
        observer=observer,
        caps=caps,
        downloads=downloads,
    )
