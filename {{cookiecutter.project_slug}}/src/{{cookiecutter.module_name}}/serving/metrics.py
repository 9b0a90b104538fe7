"""Prometheus metrics of the service: traffic, latency, predictions, shadow and log health.

With several worker processes (WORKERS > 1) every worker writes its values to files in
PROMETHEUS_MULTIPROC_DIR and a scrape, whichever worker answers it, adds up all of them:
counts and histograms are sums, `model_info` the highest and `prediction_log_writable` the
lowest value of the live workers. Process metrics (memory, CPU) are then left out: each
would describe only the worker that answered.
"""

from __future__ import annotations

import os

import numpy as np
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    generate_latest,
    multiprocess,
)
from prometheus_client.registry import Collector

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
PROBABILITY_BUCKETS = tuple(round(0.1 * step, 1) for step in range(1, 11))
LOG_DROP_REASONS = ("queue_full", "unstorable", "shutdown")
FEW = 8  # observe_all counts up to this many values one at a time


def observe_all(histogram: Histogram, values: np.ndarray) -> None:
    """Observe many values at once: one count per bucket instead of a lock and a loop per value.

    The same counts as `observe` for each value (a value lands in the first bucket whose upper
    bound is at or above it); the generated tests compare the two renderings.
    """
    if len(values) <= FEW:  # a few values: NumPy's per-call overhead would cost more than it saves
        for value in values.tolist():
            histogram.observe(value)
        return
    bounds = histogram._upper_bounds  # the child's own buckets, as observe() fills them
    counts = np.bincount(np.searchsorted(bounds, values, side="left"), minlength=len(bounds))[: len(bounds)]
    for bucket, count in zip(histogram._buckets, counts.tolist(), strict=True):
        if count:
            bucket.inc(count)
    histogram._sum.inc(float(values.sum()))


def multiprocess_folder() -> str | None:
    """Where worker processes share their values (set by the server before it starts them), or None."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


class ServiceMetrics:
    """One registry per app, so tests and several apps in one process never collide."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.folder = multiprocess_folder()
        self.collectors: list[Collector] = []  # computed at scrape time (the drift report's gauges)
        if self.folder is None:
            ProcessCollector(registry=self.registry)  # CPU seconds, resident memory, open files
        labels = ("endpoint", "status", "model_version")
        self.requests = Counter("http_requests", "HTTP requests answered", labels, registry=self.registry)
        self.latency = Histogram(
            "http_request_duration_seconds", "Time to answer", labels, buckets=LATENCY_BUCKETS, registry=self.registry
        )
        self.probability = Histogram(
            "prediction_probability",
            "Predicted probability of the positive class",
            ("model_version",),
            buckets=PROBABILITY_BUCKETS,
            registry=self.registry,
        )
        self.predictions = Counter("predictions", "Records scored", ("model_version", "role"), registry=self.registry)
        self.batch_rows = Histogram(
            "scoring_batch_rows",
            "Records per model call (micro-batching)",
            ("role",),
            buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 1024, 4096),
            registry=self.registry,
        )
        self.model_info = Gauge(
            "model_info",
            "Loaded models (1 per role)",
            ("model_version", "role"),
            registry=self.registry,
            multiprocess_mode="livemax",
        )
        self.shadow_disagreements = Counter(
            "shadow_disagreements", "Records where the shadow's label differs", registry=self.registry
        )
        self.shadow_dropped = Counter("shadow_dropped", "Shadow copies dropped: queue full", registry=self.registry)
        self.shadow_errors = Counter("shadow_errors", "Shadow scoring failures", registry=self.registry)
        self.log_dropped = Counter(
            "prediction_log_dropped",
            "Log rows lost: queue full, a value the database cannot store, or unwritten at shutdown",
            ("reason",),
            registry=self.registry,
        )
        for reason in LOG_DROP_REASONS:  # every series exists from the start, so alert sums see zeros
            self.log_dropped.labels(reason)
        self.log_write_errors = Counter(
            "prediction_log_write_errors", "Failed writes to the prediction log (retried)", registry=self.registry
        )
        self.log_writable = Gauge(
            "prediction_log_writable",
            "1 while log writes succeed, 0 while they fail and are retried",
            registry=self.registry,
            multiprocess_mode="livemin",
        )
        self.log_writable.set(1)
        self.log_pending = Gauge(
            "prediction_log_pending_rows",
            "Rows waiting to be written",
            registry=self.registry,
            multiprocess_mode="livesum",
        )

    def add_collector(self, collector: Collector) -> None:
        self.collectors.append(collector)
        self.registry.register(collector)

    def render(self) -> bytes:
        if self.folder is None:
            return generate_latest(self.registry)
        every_worker = CollectorRegistry()
        multiprocess.MultiProcessCollector(every_worker, path=self.folder)
        for collector in self.collectors:
            every_worker.register(collector)
        return generate_latest(every_worker)

    def close(self) -> None:
        """A worker that stops leaves the live gauges (its files stay for the sums)."""
        if self.folder is not None:
            multiprocess.mark_process_dead(os.getpid(), self.folder)
