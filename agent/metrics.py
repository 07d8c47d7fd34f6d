"""Prometheus metrics of the agent, on a registry of its own (no process-global state)."""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlmodel import col

from agent.store import Store


class Metrics:
    def __init__(self, store: Store | None = None) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.cycle_seconds = Histogram(
            "partnerlink_cycle_duration_seconds", "Duration of a sync+audit cycle.",
            buckets=(1, 5, 15, 60, 300, 900, 1800, 3600, 7200, 14400), registry=self.registry,
        )
        self.cycles = Counter("partnerlink_cycles_total", "Cycles by outcome.", ["status"],
                              registry=self.registry)
        self.source_reads = Counter(
            "partnerlink_source_reads_total", "Reads of a (source, scope) by outcome.",
            ["source", "outcome"], registry=self.registry,
        )
        self.api_requests = Counter(
            "partnerlink_api_requests_total", "HTTP requests to Microsoft APIs by status.",
            ["api", "status"], registry=self.registry,
        )
        self.throttle_wait = Counter(
            "partnerlink_throttle_wait_seconds_total", "Seconds spent waiting on Retry-After.",
            ["api"], registry=self.registry,
        )
        self.last_cycle = Gauge(
            "partnerlink_last_cycle_timestamp_seconds", "When the last cycle finished.",
            registry=self.registry,
        )
        if store is not None:
            self.registry.register(_FindingsCollector(store))


class _FindingsCollector(Collector):
    """Findings by rule and status, and alert deliveries by sink and outcome, read from the
    store at scrape time (the store, not this process, remembers them across restarts)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def collect(self) -> Iterator[Metric]:
        from agent.alerts.models import AlertDelivery
        from agent.store.models import Finding

        findings = GaugeMetricFamily("partnerlink_findings", "Findings by rule and status.",
                                     labels=["rule", "status"])
        deliveries = CounterMetricFamily(
            "partnerlink_alert_deliveries", "Alert delivery attempts by sink and outcome.",
            labels=["sink", "outcome"],
        )
        with self.store.read() as s:
            for rule, status, count in s.execute(
                select(col(Finding.rule), col(Finding.status), func.count())
                .group_by(col(Finding.rule), col(Finding.status))
            ):
                findings.add_metric([rule, status], float(count))
            for sink, status, count in s.execute(
                select(col(AlertDelivery.sink), col(AlertDelivery.status), func.count())
                .group_by(col(AlertDelivery.sink), col(AlertDelivery.status))
            ):
                deliveries.add_metric([sink, status], float(count))
        yield findings
        yield deliveries
