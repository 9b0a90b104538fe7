"""The newest drift report as Prometheus gauges, so alert rules can fire on what `make drift` found."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector


class DriftReportCollector(Collector):
    """Reads the report at scrape time: cheap, and always the newest verdict without a restart."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def describe(self) -> list[GaugeMetricFamily]:
        return [self._share(), self._detected()]

    @staticmethod
    def _share() -> GaugeMetricFamily:
        return GaugeMetricFamily("feature_drift_share", "Share of features drifted in the newest drift report")

    @staticmethod
    def _detected() -> GaugeMetricFamily:
        return GaugeMetricFamily("drift_detected", "1 when the newest drift report's verdict is drift")

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            report = json.loads(self.path.read_text(encoding="utf-8"))
            values = float(report["drift_share"]), float(report["drifted"])
        except (OSError, ValueError, KeyError, TypeError):
            return  # no report yet, or a half-written one: expose nothing rather than a wrong value
        share, detected = self._share(), self._detected()
        share.add_metric([], values[0])
        detected.add_metric([], values[1])
        yield share
        yield detected
