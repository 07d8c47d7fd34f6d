"""Prometheus metrics of the agent, on a registry of its own (no process-global state)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

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
        self.alert_deliveries = Counter(
            "partnerlink_alert_deliveries_total", "Alert deliveries by sink and outcome.",
            ["sink", "outcome"], registry=self.registry,
        )
        self.last_cycle = Gauge(
            "partnerlink_last_cycle_timestamp_seconds", "When the last cycle finished.",
            registry=self.registry,
        )
        if store is not None:
            self.registry.register(_FindingsCollector(store))


class _FindingsCollector(Collector):
    """Findings by rule and status, read from the store at scrape time."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def collect(self):  # type: ignore[no-untyped-def]
        family = GaugeMetricFamily("partnerlink_findings", "Findings by rule and status.",
                                   labels=["rule", "status"])
        from sqlalchemy import func, select

        from agent.store.models import Finding

        with self.store.read() as s:
            rows = s.execute(select(Finding.rule, Finding.status, func.count())
                             .group_by(Finding.rule, Finding.status))
            for rule, status, count in rows:
                family.add_metric([rule, status], float(count))
        yield family
