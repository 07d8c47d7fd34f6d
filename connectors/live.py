"""The live connectors of one sync: each source's row (:mod:`connectors.sources`) makes its own.

The composition root (``agent/app.py``) calls :func:`live_connectors` with the process's one HTTP
client and token provider; every connector shares one
:class:`~connectors.http.requester.Requester`, so a throttling pause of one scope holds for every
worker (R16), and one set of client-side budgets
(:class:`~connectors.ratelimit.MicrosoftLimits`, one limiter per Microsoft throttling scope), so
every worker together stays inside the documented limits.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from pathlib import Path

import httpx

from connectors.base import APP_USER, PARTNER_APP, Connector, TokenProvider
from connectors.destinations import DownloadGuard
from connectors.endpoints import CloudEndpoints
from connectors.http.body import DEFAULT_CAPS, AnswerCaps
from connectors.http.observer import NO_OBSERVER, RequestObserver
from connectors.http.requester import Requester
from connectors.insights.api import DEFAULT_QUERIES, InsightsQuery
from connectors.ratelimit import MicrosoftLimits
from connectors.records.customers import Source
from connectors.retry_after import DEFAULT_RETRY, RetryPolicy
from connectors.sources import SOURCES, LiveContext
from connectors.timing import Sleep

DEFAULT_MAX_IN_FLIGHT = 64
"""Requests on the wire at once: enough to keep every scope busy at 100-300 ms of latency,
few enough for one process and one connection pool."""


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

    Without a ``requester``, one is made with Microsoft's documented limits (divided by
    ``time_scale``: 1 against Microsoft, the emulator's own factor against a scaled emulator) and
    at most ``max_in_flight`` requests on the wire at once, telling ``observer`` of every try
    and throttling wait (the agent's metrics), reading every answer under ``caps`` and following
    download links only where ``downloads`` allows (by default: public https hosts).
    """
    if PARTNER_APP not in identities:
        raise ValueError(f"identities must include {PARTNER_APP!r} (the partner's own app)")
    shared = requester or Requester(
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
    skip = {Source(name) for name in disabled}
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
    made: list[Connector] = []
    for row in SOURCES:
        if row.source not in skip:
            made.extend(row.connect(context))
    return made
