"""Prometheus metrics of one Calmline server (its own registry, so several apps can coexist)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

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


class _PausedCounter:
    """Seconds this server's analyses paused for live calls (``live.batch_yield_s``)."""

    def __init__(self) -> None:
        self.source: Callable[[], float] | None = None

    def collect(self):
        c = CounterMetricFamily(
            "calmline_jobs_paused_for_live_seconds",
            "Seconds analysis jobs of this server paused between decoding windows because live "
            "transcription had utterances waiting (live.batch_yield_s).",
        )
        c.add_metric([], float(self.source()) if self.source is not None else 0.0)
        yield c


class _LiveGauge:
    """The live pipeline's own view of how far behind it is (read at scrape time)."""

    def __init__(self) -> None:
        self.source: Callable[[], dict[str, Any]] | None = None

    def collect(self):
        stats: dict[str, Any] = {}
        if self.source is not None:
            try:
                stats = self.source()
            except Exception:  # a scrape must not fail because a live call is closing
                stats = {}
        lag = GaugeMetricFamily(
            "calmline_live_asr_lag_seconds",
            "How far live transcription is behind: the wait of the oldest utterance queued, or "
            "the longest end-of-utterance-to-words lag of the last 10 s.",
        )
        lag.add_metric([], float(stats.get("asr_lag_s", 0.0)))
        yield lag
        calls = GaugeMetricFamily(
            "calmline_live_calls",
            "Live calls on this server by how they are transcribed: live, or after the call "
            "(degraded: they started while transcription was behind live.max_asr_lag_s, or "
            "were shed when it fell that far behind).",
            labels=["transcript"],
        )
        degraded = int(stats.get("degraded", 0))
        calls.add_metric(["live"], int(stats.get("sessions", 0)) - degraded)
        calls.add_metric(["after_call"], degraded)
        yield calls
        pending = GaugeMetricFamily(
            "calmline_live_asr_pending", "Utterances waiting for live transcription."
        )
        pending.add_metric([], int(stats.get("asr_pending", 0)))
        yield pending


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
        self._live = _LiveGauge()
        r.register(self._live)
        self._paused = _PausedCounter()
        r.register(self._paused)

    def watch_live(self, stats: Callable[[], dict[str, Any]]) -> None:
        """Read the live gauges from ``stats`` (``StreamingPipeline.stats``) at each scrape."""
        self._live.source = stats

    def watch_paused(self, seconds: Callable[[], float]) -> None:
        """Read the analyses' pause for live calls from ``seconds`` (``JobRunner.paused_s``)."""
        self._paused.source = seconds

    def render(self) -> bytes:
        return generate_latest(self.registry)
