"""The real counterpart of ``FakeWorld.connectors()``: one live connector per source.

The composition root (``agent/app.py``) calls :func:`live_connectors` with the process's one HTTP
client and token provider; every connector shares one :class:`~connectors.http.Requester`, so a
throttling pause of one scope holds for every worker (R16), and one set of client-side budgets
(:class:`~connectors.ratelimit.MicrosoftLimits`, one limiter per Microsoft throttling scope), so
every worker together stays inside the documented limits.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from pathlib import Path

import httpx

from connectors.answers import DEFAULT_CAPS, AnswerCaps
from connectors.arm import ArmPal, ArmSubscriptions
from connectors.base import Connector, TokenProvider
from connectors.destinations import DownloadGuard
from connectors.endpoints import CloudEndpoints
from connectors.graph import (
    GraphContracts,
    GraphDirectorySubscriptions,
    GraphGdap,
    GraphIdentities,
    GraphSubscribedSkus,
    GraphUsageReports,
)
from connectors.http import APP_USER, NO_OBSERVER, Requester, RequestObserver, Sleep
from connectors.insights import DEFAULT_QUERIES, InsightsApi, InsightsFolder, InsightsQuery
from connectors.partner_center import (
    PartnerCenterAuditRecords,
    PartnerCenterCustomers,
    PartnerCenterSubscriptions,
    PartnerCenterUsage,
)
from connectors.ratelimit import MicrosoftLimits
from connectors.records import Source
from connectors.retry_after import DEFAULT_RETRY, RetryPolicy
from connectors.scenario.model import PARTNER_APP

GDAP_CONCURRENCY = 64
"""Access-assignment listings of GDAP relationships read at once."""

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
    """One connector per source, in :class:`~connectors.records.Source` order.

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
    partner = partner_tenant_id.lower()
    made: list[Connector] = []
    for source in Source:
        if source in skip:
            continue
        if source is Source.PC_CUSTOMERS:
            made.append(PartnerCenterCustomers(shared, endpoints, partner_tenant_id=partner))
        elif source is Source.PC_SUBSCRIPTIONS:
            made.append(PartnerCenterSubscriptions(shared, endpoints, partner_tenant_id=partner))
        elif source is Source.PC_AUDIT:
            made.append(
                PartnerCenterAuditRecords(
                    shared,
                    endpoints,
                    partner_tenant_id=partner,
                    lookback_days=audit_lookback_days,
                )
            )
        elif source is Source.PC_USAGE:
            if app_user:
                made.append(
                    PartnerCenterUsage(
                        shared,
                        endpoints,
                        partner_tenant_id=partner,
                        user_identity=user_identity,
                    )
                )
        elif source is Source.GRAPH_CONTRACTS:
            made.append(GraphContracts(shared, endpoints, partner_tenant_id=partner))
        elif source is Source.GRAPH_GDAP:
            # One access-assignment listing per relationship, all in the partner tenant's
            # multi-tenant budget: on a large estate this read sets the sync's floor, so it
            # keeps enough requests going to use that budget (the limiter holds it there).
            made.append(
                GraphGdap(
                    shared, endpoints, partner_tenant_id=partner, concurrency=GDAP_CONCURRENCY
                )
            )
        elif source is Source.GRAPH_SKUS:
            made.append(GraphSubscribedSkus(shared, endpoints, partner_tenant_id=partner))
        elif source is Source.GRAPH_DIRECTORY_SUBSCRIPTIONS:
            made.append(GraphDirectorySubscriptions(shared, endpoints, partner_tenant_id=partner))
        elif source is Source.GRAPH_USAGE:
            made.append(GraphUsageReports(shared, endpoints, partner_tenant_id=partner))
        elif source is Source.GRAPH_IDENTITIES:
            made.append(
                GraphIdentities(
                    shared,
                    endpoints,
                    partner_tenant_id=partner,
                    apps=identities,
                )
            )
        elif source is Source.ARM_SUBSCRIPTIONS:
            made.append(ArmSubscriptions(shared, endpoints))
        elif source is Source.ARM_PAL:
            made.extend(ArmPal(shared, endpoints, identity=name) for name in identities)
        elif source is Source.INSIGHTS:
            if insights_folder is not None:
                made.append(InsightsFolder(insights_folder))
            elif app_user:
                made.append(
                    InsightsApi(
                        shared,
                        endpoints,
                        partner_tenant_id=partner,
                        queries=insights_queries,
                        user_identity=user_identity,
                        sleep=sleep,
                    )
                )
        else:  # pragma: no cover - a new Source needs its connector here
            raise ValueError(f"no live connector for {source}")
    return made
