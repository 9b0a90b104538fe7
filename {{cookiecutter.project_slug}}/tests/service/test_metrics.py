"""The service's metrics: many probabilities observed at once count as each observed alone."""

from __future__ import annotations

import numpy as np
import pytest
from prometheus_client import CollectorRegistry, Histogram, generate_latest

from {{ cookiecutter.module_name }}.serving.metrics import PROBABILITY_BUCKETS, observe_all


def histogram() -> tuple[CollectorRegistry, Histogram]:
    registry = CollectorRegistry()
    return registry, Histogram(
        "probability", "test", ("model_version",), buckets=PROBABILITY_BUCKETS, registry=registry
    )


def test_observe_all_renders_as_one_observation_per_value() -> None:
    values = np.concatenate([np.random.default_rng(0).random(997), [0.0, 0.1, 0.5, 1.0, 1.5]])  # bounds and beyond
    each_registry, each = histogram()
    for value in values:
        each.labels("v1").observe(value)
    all_registry, together = histogram()
    observe_all(together.labels("v1"), values[:3])  # one at a time
    observe_all(together.labels("v1"), values[3:500])  # counted per bucket
    observe_all(together.labels("v1"), values[500:])
    assert samples(all_registry) == samples(each_registry)


def samples(registry: CollectorRegistry) -> dict[str, float]:
    """Every bucket and count exactly; the sum to float rounding (it is added up in another order)."""
    lines = generate_latest(registry).decode().splitlines()
    values = dict(line.rsplit(" ", 1) for line in lines if line and not line.startswith("#") and "_created" not in line)
    return {
        name: pytest.approx(float(value), rel=1e-12) if "_sum" in name else float(value)
        for name, value in values.items()
    }
