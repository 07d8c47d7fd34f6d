"""Prometheus metrics of the agent, on a registry of its own (no process-global state)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from agent.audit.credential import REFRESH_TOKEN, CredentialState
from agent.readiness.coverage import FIGURES, ReadCoverage
from agent.readiness.recorded import last_readable
from agent.store import Store

if TYPE_CHECKING:
    from connectors.http.observer import RequestObserver


class Metrics:
    def __init__(self, store: Store | None = None) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.cycle_seconds = Histogram(
            "partnerlink_cycle_duration_seconds",
            "Duration of a sync+audit cycle.",
            buckets=(1, 5, 15, 60, 300, 900, 1800, 3600, 7200, 14400),
            registry=self.registry,
        )
        self.cycles = Counter(
            "partnerlink_cycles_total", "Cycles by outcome.", ["status"], registry=self.registry
        )
        self.source_reads = Counter(
            "partnerlink_source_reads_total",
            "Reads of a (source, scope) by outcome.",
            ["source", "outcome"],
            registry=self.registry,
        )
        self.api_requests = Counter(
            "partnerlink_api_requests_total",
            "HTTP requests to Microsoft APIs by status.",
            ["api", "status"],
            registry=self.registry,
        )
        self.throttle_wait = Counter(
            "partnerlink_throttle_wait_seconds_total",
            "Seconds requests waited on throttling: Retry-After pauses, ARM spacing and the "
            "client-side budgets.",
            ["api"],
            registry=self.registry,
        )
        self.http_requests = Counter(
            "partnerlink_http_requests_total",
            "Requests to the agent's own endpoint by endpoint and status (401s: token guesses).",
            ["endpoint", "code"],
            registry=self.registry,
        )
        self.last_cycle = Gauge(
            "partnerlink_last_cycle_timestamp_seconds",
            "When the last cycle finished.",
            registry=self.registry,
        )
        self.credential_expiry = Gauge(
            "partnerlink_credential_expiry_timestamp_seconds",
            "When each credential of the agent stops working: the secret or certificate of the "
            "partner's app and of each PAL carrier, and the app+user refresh token (its death "
            "by 90 idle days). Absent while unknown.",
            ["identity", "kind"],
            registry=self.registry,
        )
        self.refresh_token_rotated = Gauge(
            "partnerlink_refresh_token_rotated_timestamp_seconds",
            "When the app+user refresh token was last redeemed (rotated).",
            registry=self.registry,
        )
        if store is not None:
            self.registry.register(_FindingsCollector(store))

    def credentials(self, states: Iterable[CredentialState]) -> None:
        """Set the credential gauges from the latest audit's view of the agent's credentials
        (a credential whose end is unknown is left out)."""
        self.credential_expiry.clear()
        for state in states:
            if state.expires is not None:
                self.credential_expiry.labels(state.identity, state.kind).set(
                    state.expires.timestamp()
                )
            rotated = state.evidence.get("rotated_at") if state.kind == REFRESH_TOKEN else None
            if isinstance(rotated, str):
                self.refresh_token_rotated.set(datetime.fromisoformat(rotated).timestamp())

    def observer(self) -> RequestObserver:
        """What the connectors' HTTP layer reports to (it cannot import this module)."""
        return _RequestCounters(self)


class _RequestCounters:
    """Feeds ``api_requests`` and ``throttle_wait`` from the requester
    (:class:`connectors.http.requester.Requester`).

    Labels come from :func:`connectors.http.observer.api_of` and the HTTP status: a handful of
    values, never a tenant or a URL.
    """

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    def request_done(self, api: str, status: int | str) -> None:
        self.metrics.api_requests.labels(api, str(status)).inc()

    def waited(self, api: str, seconds: float, why: str) -> None:
        if seconds > 0:
            self.metrics.throttle_wait.labels(api).inc(seconds)


class _FindingsCollector(Collector):
    """Findings by rule and status, alert deliveries by sink and outcome, and the readable share
    of the estate, read from the store at scrape time (the store, not this process, remembers
    them across restarts)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def collect(self) -> Iterator[Metric]:
        findings = GaugeMetricFamily(
            "partnerlink_findings", "Findings by rule and status.", labels=["rule", "status"]
        )
        deliveries = CounterMetricFamily(
            "partnerlink_alert_deliveries",
            "Alert delivery attempts by sink and outcome.",
            labels=["sink", "outcome"],
        )
        for (rule, status), count in self.store.finding_counts().items():
            findings.add_metric([rule, status], float(count))
        for (sink, status), count in self.store.delivery_counts().items():
            deliveries.add_metric([sink, status], float(count))
        yield findings
        yield deliveries
        yield from readable_metrics(last_readable(self.store))


def readable_metrics(coverage: ReadCoverage | None) -> Iterator[Metric]:
    """``partnerlink_readable_ratio`` and ``partnerlink_readable_items`` per figure (customers,
    Azure subscriptions, seats); a figure with nothing to count has no ratio."""
    ratio = GaugeMetricFamily(
        "partnerlink_readable_ratio",
        "Share of the estate fully readable in the newest audited run (0-1), by figure.",
        labels=["figure"],
    )
    items = GaugeMetricFamily(
        "partnerlink_readable_items",
        "Customers, Azure subscriptions and seats, fully readable and in all, in the newest "
        "audited run.",
        labels=["figure", "count"],
    )
    for figure in FIGURES:
        if coverage is None:
            break
        readable, total = coverage.counts(figure)
        items.add_metric([figure, "readable"], float(readable))
        items.add_metric([figure, "total"], float(total))
        if total:
            ratio.add_metric([figure], readable / total)
    yield ratio
    yield items
