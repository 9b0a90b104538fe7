"""The service's state: the loaded model and its batcher.

Kept apart from the HTTP layer so the same object serves /predict and the Open Inference
Protocol endpoints, and tests can drive it directly. From level 2, serving/rollout.py extends
it with a candidate model (shadow or canary) and the prediction log.
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

from .batching import MicroBatcher
from .metrics import ServiceMetrics, observe_all
from .model_store import ServedModel, load_served_model
from .settings import Settings

log = logging.getLogger(__name__)

PRIMARY = "primary"
INLINE_ROWS = 16  # a compiled model scores this many rows on the event loop faster than a thread handoff


@dataclass(frozen=True)
class Scored:
    """One answered request: per record, its probability, label and the (version, role) of the model that answered.

    A label is the probability against the answering model's own threshold (recorded in its manifest).
    """

    request_id: str
    model_version: str  # the version that answered, or every version that did, primary first
    probabilities: np.ndarray
    labels: np.ndarray
    models: list[tuple[str, str]]


class NotReady(RuntimeError):
    """No model is loaded (yet): the service answers 503."""


class Service:
    """Loads the model once, then scores records with it; a subclass may add models and routes."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.metrics = ServiceMetrics()
        self.models: dict[str, ServedModel] = {}
        self.batchers: dict[str, MicroBatcher] = {}
        self.load_error: str | None = None

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
            model.score,
            self.settings.batch_max_rows,
            on_batch=self.metrics.batch_rows.labels(role).observe,
            inline_rows=INLINE_ROWS if model.compiled is not None else 0,
        )
        self.metrics.model_info.labels(model.version, role).set(1)
        log.info("%s model %s loaded from %s", role, model.version, uri)

    def model_uris(self) -> dict[str, str]:
        """The model each role loads (role -> URI)."""
        return {PRIMARY: self.settings.model_uri}

    async def start(self) -> None:
        """Load the models; a failure leaves the service live but not ready, with the reason logged."""
        try:
            for role, uri in self.model_uris().items():
                self._add_model(role, uri)
        except Exception as error:  # any load failure must keep the process up to report it
            self.load_error = f"{type(error).__name__}: {error}"
            log.exception("model could not be loaded; /health/ready answers 503")
            return
        # one scoring thread per process: OpenMP/BLAS worker pools would spin on the cores the
        # event loop needs; scale out with replicas instead
        threadpool_limits(limits=1)
        gc.freeze()  # the loaded model is long-lived: keep it out of every later collection

    async def stop(self) -> None:
        """Finish the queued batches, then release the scoring threads."""
        for batcher in self.batchers.values():
            batcher.close()

    def _routes(self, records: list[dict[str, Any]], request_id: str) -> str | list[str]:
        """The role answering each record, or one role for the whole request."""
        return PRIMARY

    async def predict(self, records: list[dict[str, Any]], request_id: str | None = None) -> Scored:
        """Score each record with the model it routes to."""
        if not self.ready:
            raise NotReady(self.load_error or "model not loaded")
        request_id = request_id or uuid.uuid4().hex
        routes = self._routes(records, request_id)
        if isinstance(routes, str):
            groups = {routes: None}
            probabilities = await self.batchers[routes].score(records)
            models = [(self.models[routes].version, routes)] * len(records)
            thresholds: float | np.ndarray = self.models[routes].threshold
        else:
            groups = {
                role: [i for i, route in enumerate(routes) if route == role] for role in self.models if role in routes
            }
            parts = await asyncio.gather(
                *(self.batchers[role].score([records[i] for i in rows]) for role, rows in groups.items())
            )
            probabilities = np.empty(len(records))
            for rows, part in zip(groups.values(), parts, strict=True):
                probabilities[rows] = part
            models = [(self.models[role].version, role) for role in routes]
            thresholds = np.array([self.models[role].threshold for role in routes])
        labels = (probabilities >= thresholds).astype(int)  # each record by the threshold of the model that scored it
        versions = dict.fromkeys(self.models[role].version for role in groups)
        scored = Scored(request_id, ",".join(versions), probabilities, labels, models)
        for role, rows in groups.items():
            version = self.models[role].version
            answered = probabilities if rows is None else probabilities[rows]
            self.metrics.predictions.labels(version, role).inc(len(answered))
            observe_all(self.metrics.probability.labels(version), answered)
        return scored
