"""The live connectors of one sync: each source's maker makes its own from the sync's context.

The composition root (``agent/app.py``) calls :func:`live_connectors` with the process's one HTTP
client and token provider; every connector shares one
:class:`~connectors.http.requester.Requester`, so a throttling pause of one scope holds for every
worker (guarantee retry-after), and one set of client-side budgets
(:class:`~connectors.ratelimit.MicrosoftLimits`, one limiter per Microsoft throttling scope), so
every worker together stays inside the documented limits.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx

from connectors.arm import ArmPal, ArmSubscriptions
from connectors.base import APP_USER, PARTNER_APP, Connector, TokenProvider
from connectors.destinations import DownloadGuard
from connectors.endpoints import CloudEndpoints
from connectors.graph.contracts import GraphContracts
from connectors.graph.gdap import GraphGdap
from connectors.graph.identities import GraphIdentities
from connectors.graph.licences import GraphDirectorySubscriptions, GraphSubscribedSkus
from connectors.graph.reports import GraphUsageReports
from connectors.http.body import DEFAULT_CAPS, AnswerCaps
from connectors.http.observer import NO_OBSERVER, RequestObserver
from connectors.http.requester import Requester
from connectors.insights.api import DEFAULT_QUERIES, InsightsApi, InsightsQuery
from connectors.insights.folder import InsightsFolder
from connectors.partner_center import (
    PartnerCenterAuditRecords,
    PartnerCenterCustomers,
    PartnerCenterSubscriptions,
    PartnerCenterUsage,
)
from connectors.ratelimit import MicrosoftLimits
from connectors.records.scope import Source
from connectors.retry_after import DEFAULT_RETRY, RetryPolicy
from connectors.sources import SOURCES
from connectors.timing import Sleep

DEFAULT_MAX_IN_FLIGHT = 64
"""Requests on the wire at once: enough to keep every scope busy at 100-300 ms of latency,
few enough for one process and one connection pool."""

GDAP_CONCURRENCY = 64
"""Access-assignment listings of GDAP relationships read at once."""


@dataclass(frozen=True, slots=True)
class LiveContext:
    """What every live connector of one sync is made from."""

    requester: Requester
    endpoints: CloudEndpoints
    partner_tenant_id: str
    identities: Mapping[str, str]
    """Every identity the agent signs in as, ``partner-app`` included, to its app (client) id."""
    app_user: bool
    """Whether an app+user refresh token is configured (the delegated sources need one)."""
    insights_folder: Path | None
    audit_lookback_days: int
    insights_queries: tuple[InsightsQuery, ...]
    user_identity: str
    sleep: Sleep


Connect = Callable[[LiveContext], Iterable[Connector]]
"""A source's live connectors: usually one, one per identity for a per-identity source, none
where the sync has not what the source needs (an app+user token)."""


def _audit_records(c: LiveContext) -> list[Connector]:
    return [
        PartnerCenterAuditRecords(
            c.requester,
            c.endpoints,
            partner_tenant_id=c.partner_tenant_id,
            lookback_days=c.audit_lookback_days,
        )
    ]


def _usage(c: LiveContext) -> list[Connector]:
    if not c.app_user:
        return []
    return [
        PartnerCenterUsage(
            c.requester,
            c.endpoints,
            partner_tenant_id=c.partner_tenant_id,
            user_identity=c.user_identity,
        )
    ]


def _gdap(c: LiveContext) -> list[Connector]:
    # One access-assignment listing per relationship, all in the partner tenant's multi-tenant
    # budget: on a large estate this read sets the sync's floor, so it keeps enough requests
    # going to use that budget (the limiter holds it there).
    return [
        GraphGdap(
            c.requester,
            c.endpoints,
            partner_tenant_id=c.partner_tenant_id,
            concurrency=GDAP_CONCURRENCY,
        )
    ]


def _identities(c: LiveContext) -> list[Connector]:
    return [
        GraphIdentities(
            c.requester, c.endpoints, partner_tenant_id=c.partner_tenant_id, apps=c.identities
        )
    ]


def _pal(c: LiveContext) -> list[Connector]:
    return [ArmPal(c.requester, c.endpoints, identity=name) for name in c.identities]


def _insights(c: LiveContext) -> list[Connector]:
    """The report CSVs of ``insights_folder`` where one is given, else the insights API, which
    needs an app+user token."""
    if c.insights_folder is not None:
        return [InsightsFolder(c.insights_folder)]
    if not c.app_user:
        return []
    return [
        InsightsApi(
            c.requester,
            c.endpoints,
            partner_tenant_id=c.partner_tenant_id,
            queries=c.insights_queries,
            user_identity=c.user_identity,
            sleep=c.sleep,
        )
    ]


MAKERS: dict[Source, Connect] = {
    Source.PC_CUSTOMERS: lambda c: [
        PartnerCenterCustomers(c.requester, c.endpoints, partner_tenant_id=c.partner_tenant_id)
    ],
    Source.PC_SUBSCRIPTIONS: lambda c: [
        PartnerCenterSubscriptions(c.requester, c.endpoints, partner_tenant_id=c.partner_tenant_id)
    ],
    Source.PC_AUDIT: _audit_records,
    Source.PC_USAGE: _usage,
    Source.GRAPH_CONTRACTS: lambda c: [
        GraphContracts(c.requester, c.endpoints, partner_tenant_id=c.partner_tenant_id)
    ],
    Source.GRAPH_GDAP: _gdap,
    Source.GRAPH_SKUS: lambda c: [
        GraphSubscribedSkus(c.requester, c.endpoints, partner_tenant_id=c.partner_tenant_id)
    ],
    Source.GRAPH_DIRECTORY_SUBSCRIPTIONS: lambda c: [
        GraphDirectorySubscriptions(c.requester, c.endpoints, partner_tenant_id=c.partner_tenant_id)
    ],
    Source.GRAPH_USAGE: lambda c: [
        GraphUsageReports(c.requester, c.endpoints, partner_tenant_id=c.partner_tenant_id)
    ],
    Source.GRAPH_IDENTITIES: _identities,
    Source.ARM_SUBSCRIPTIONS: lambda c: [ArmSubscriptions(c.requester, c.endpoints)],
    Source.ARM_PAL: _pal,
    Source.INSIGHTS: _insights,
}
"""How each source's live connectors are made (:mod:`connectors.sources` declares the source)."""


def make_connectors(context: LiveContext, disabled: Iterable[str] = ()) -> list[Connector]:
    """Every source's live connectors, in the rows' order, but those ``disabled`` names."""
    skip = {Source(name) for name in disabled}
    return [c for row in SOURCES if row.source not in skip for c in MAKERS[row.source](context)]


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
