"""Prometheus metrics of one Calmline server (its own registry, so several apps can coexist)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

from calmline.monitor.store import Store


class _JobGauge:
    def __init__(self, store: Store) -> None:
        self.store = store

    def collect(self):
        g = GaugeMetricFamily("calmline_jobs", "Jobs in the store by state.", labels=["state"])
        try:
            counts = self.store.count_jobs()
        except Exception:  # the scrape must not fail because the database is busy
            counts = {}
        for state, n in counts.items():
            g.add_metric([state], n)
        yield g


class Metrics:
    def __init__(self, store: Store) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "calmline_http_requests",
            "HTTP requests by method, route template and status.",
            ["method", "route", "status"],
            registry=r,
        )
        self.uploads = Counter(
            "calmline_uploads", "Uploaded calls by outcome.", ["outcome"], registry=r
        )
        self.jobs_finished = Counter(
            "calmline_jobs_finished",
            "Jobs finished by kind and outcome.",
            ["kind", "outcome"],
            registry=r,
        )
        self.job_seconds = Histogram(
            "calmline_job_seconds",
            "Wall time of a job.",
            ["kind"],
            buckets=(1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1800),
            registry=r,
        )
        self.calls_scored = Counter(
            "calmline_calls_scored", "Calls scored (reports stored).", registry=r
        )
        self.critical_calls = Counter(
            "calmline_critical_calls", "Scored calls with a critical finding.", registry=r
        )
        r.register(_JobGauge(store))

    def render(self) -> bytes:
        return generate_latest(self.registry)
