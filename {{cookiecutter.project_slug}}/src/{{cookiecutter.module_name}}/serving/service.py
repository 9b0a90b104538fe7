"""The service's state: loaded models, their batchers{% if cookiecutter.__automated %}, the strategy, the prediction log{% endif %}.

Kept apart from the HTTP layer so the same object serves /predict and the Open Inference
Protocol endpoints, and tests can drive it directly.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import uuid
from dataclasses import dataclass
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

{% if cookiecutter.__automated -%}
from ..monitoring.gauges import DriftReportCollector
{% endif -%}
from .batching import MicroBatcher
from .contract import ROUTING_KEY
from .metrics import ServiceMetrics
from .model_store import ServedModel, load_served_model
{%- if cookiecutter.__automated %}
from .prediction_log import SHADOW, Feedback, PredictionLog
{%- endif %}
from .settings import Settings
{%- if cookiecutter.__automated %}
from .strategies import Shadow, routes_to_candidate
{%- endif %}

log = logging.getLogger(__name__)

PRIMARY, CANDIDATE = "primary", "candidate"


@dataclass(frozen=True)
class Scored:
    """One answered request: per record, its probability, label and the (version, role) of the model that answered."""

    request_id: str
    model_version: str  # the version that answered, or every version that did, primary first
    probabilities: np.ndarray
    labels: np.ndarray
    models: list[tuple[str, str]]


class NotReady(RuntimeError):
    """No model is loaded (yet): the service answers 503."""


class Service:
    """Loads the models once, then scores records through the configured strategy."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.metrics = ServiceMetrics()
{%- if cookiecutter.__automated %}
        if settings.drift_report:
            self.metrics.registry.register(DriftReportCollector(settings.drift_report))
{%- endif %}
        self.models: dict[str, ServedModel] = {}
        self.batchers: dict[str, MicroBatcher] = {}
        self.load_error: str | None = None
{%- if cookiecutter.__automated %}
        self.log: PredictionLog | None = None
        self.shadow: Shadow | None = None
{%- endif %}

    @property
    def ready(self) -> bool:
        return PRIMARY in self.models and self.load_error is None

    @property
    def version(self) -> str:
        return self.models[PRIMARY].version if PRIMARY in self.models else "none"

    def _add_model(self, role: str, uri: str) -> None:
        model = load_served_model(uri)
        self.models[role] = model
        self.batchers[role] = MicroBatcher(
            model.score, self.settings.batch_max_rows, on_batch=self.metrics.batch_rows.labels(role).observe
        )
        self.metrics.model_info.labels(model.version, role).set(1)
        log.info("%s model %s loaded from %s", role, model.version, uri)

    async def start(self) -> None:
        """Load the models; a failure leaves the service live but not ready, with the reason logged."""
        try:
            self._add_model(PRIMARY, self.settings.model_uri)
{%- if cookiecutter.__automated %}
            if self.settings.candidate_uri and self.settings.strategy != "basic":
                self._add_model(CANDIDATE, self.settings.candidate_uri)
{%- endif %}
        except Exception as error:  # any load failure must keep the process up to report it
            self.load_error = f"{type(error).__name__}: {error}"
            log.exception("model could not be loaded; /health/ready answers 503")
            return
{%- if cookiecutter.__automated %}
        if self.settings.prediction_log is not None:
            self.log = PredictionLog(self.settings.prediction_log, self.metrics)
        if self.settings.strategy == "shadow":
            self.shadow = Shadow(
                self.models[CANDIDATE],
                self.settings.shadow_queue_size,
                on_result=self._record_shadow,
                on_drop=self.metrics.shadow_dropped.inc,
                on_error=self.metrics.shadow_errors.inc,
            )
            self.shadow.start()
{%- endif %}
        # one scoring thread per process: OpenMP/BLAS worker pools would spin on the cores the
        # event loop needs; scale out with replicas instead
        threadpool_limits(limits=1)
        gc.freeze()  # the loaded model is long-lived: keep it out of every later collection

    async def stop(self) -> None:
        """{% if cookiecutter.__automated %}Within the grace period, finish what is queued: shadow copies (at most half of it), batches, log writes{% else %}Finish the queued batches, then release the scoring threads{% endif %}."""
{%- if cookiecutter.__automated %}
        grace, clock = self.settings.shutdown_grace_seconds, asyncio.get_running_loop().time
        deadline = clock() + grace
        if self.shadow is not None:
            await asyncio.to_thread(self.shadow.stop, grace / 2)
{%- endif %}
        for batcher in self.batchers.values():
            batcher.close()
{%- if cookiecutter.__automated %}
        if self.log is not None:
            await asyncio.to_thread(self.log.close, max(0.0, deadline - clock()))
{%- endif %}

    def route(self, key: Any) -> str:
        """Which model answers a record (or, without a routing key, a request) with this key."""
{%- if cookiecutter.__automated %}
        if self.settings.strategy == "canary" and routes_to_candidate(key, self.settings.canary_weight):
            return CANDIDATE
{%- endif %}
        return PRIMARY

    def _routes(self, records: list[dict[str, Any]], request_id: str) -> str | list[str]:
        """The role answering each record, by its own key (sticky per entity); one role when they all agree."""
        if self.settings.strategy != "canary":
            return PRIMARY
        if not ROUTING_KEY:  # without an id, a whole request goes one way
            return self.route(request_id)
        roles = [self.route(record.get(ROUTING_KEY)) for record in records]
        return roles[0] if roles.count(roles[0]) == len(roles) else roles

    async def predict(self, records: list[dict[str, Any]], request_id: str | None = None) -> Scored:
        """Score each record with the model it routes to; log them and feed the shadow off the response path."""
        if not self.ready:
            raise NotReady(self.load_error or "model not loaded")
        request_id = request_id or uuid.uuid4().hex
        routes = self._routes(records, request_id)
        if isinstance(routes, str):
            groups = {routes: None}
            probabilities = await self.batchers[routes].score(records)
            models = [(self.models[routes].version, routes)] * len(records)
        else:
            groups = {role: [i for i, route in enumerate(routes) if route == role] for role in (PRIMARY, CANDIDATE)}
            parts = await asyncio.gather(
                *(self.batchers[role].score([records[i] for i in rows]) for role, rows in groups.items())
            )
            probabilities = np.empty(len(records))
            for rows, part in zip(groups.values(), parts, strict=True):
                probabilities[rows] = part
            models = [(self.models[role].version, role) for role in routes]
        labels = (probabilities >= self.settings.decision_threshold).astype(int)
        versions = dict.fromkeys(self.models[role].version for role in groups)
        scored = Scored(request_id, ",".join(versions), probabilities, labels, models)
        for role, rows in groups.items():
            version = self.models[role].version
            answered = probabilities if rows is None else probabilities[rows]
            self.metrics.predictions.labels(version, role).inc(len(answered))
            histogram = self.metrics.probability.labels(version)
            for probability in answered:
                histogram.observe(probability)
{%- if cookiecutter.__automated %}
        if self.log is not None:
            self.log.record_predictions(request_id, records, probabilities.tolist(), labels.tolist(), models)
        if self.shadow is not None:
            self.shadow.offer(request_id, records, probabilities)
{%- endif %}
        return scored
{%- if cookiecutter.__automated %}

    def _record_shadow(
        self, request_id: str, records: list[dict[str, Any]], primary: np.ndarray, shadow: np.ndarray
    ) -> None:
        threshold = self.settings.decision_threshold
        disagreements = int(((primary >= threshold) != (shadow >= threshold)).sum())
        self.metrics.shadow_disagreements.inc(disagreements)
        version = self.models[CANDIDATE].version
        self.metrics.predictions.labels(version, SHADOW).inc(len(records))
        if self.log is not None:
            labels = (shadow >= threshold).astype(int).tolist()
            models = [(version, SHADOW)] * len(records)
            self.log.record_predictions(request_id, records, shadow.tolist(), labels, models)

    async def record_feedback(self, request_id: str, labels: list[int]) -> tuple[Feedback, int]:
        """Check the labels against the logged answer and queue them: the outcome and the record count."""
        if self.log is None:
            raise NotReady("no prediction log is configured (PREDICTION_LOG)")
        return await asyncio.to_thread(self.log.submit_feedback, request_id, tuple(labels))
{%- endif %}
