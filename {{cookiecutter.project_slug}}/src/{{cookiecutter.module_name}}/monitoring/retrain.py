"""Retraining: decide whether to retrain, train a challenger the pipeline's way, promote only a winner.

Triggers (each switchable in params.yaml): the drift verdict, the feedback loop's
degradation flag, and the volume of new labelled data. The challenger is fitted with the
same feature pipeline and estimator as the `featurize` and `train` stages, on the new data
alone (`separate`) or on old and new data (`combined`). Champion and challenger are scored
on the same fresh holdout, cut from the new batch, that neither has trained on.
"""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import Any

import pandas as pd

from ..features.pipeline import fit_feature_pipeline
from ..features.split import split_holdout
from ..models.evaluate import evaluate_model, gate_failures
from ..models.persistence import save_model
from ..models.train import fit_model
from ..schema import FEATURES

log = logging.getLogger(__name__)

STRATEGIES = ("separate", "combined")


def triggers(
    settings: dict[str, Any], drift: dict[str, Any] | None, feedback: dict[str, Any] | None, new_rows: int
) -> list[str]:
    """Every reason to retrain now; an empty list means keep the champion."""
    reasons = []
    if settings["on_drift"] and drift and drift["drifted"]:
        where = ", ".join(drift["drifted_features"]) or "the predicted probabilities"
        reasons.append(f"data drift in {where}")
    if settings["on_degradation"] and feedback and feedback["degraded"]:
        reasons.extend(f"feedback loop: {reason}" for reason in feedback["reasons"])
    if new_rows >= int(settings["min_new_rows"]):
        reasons.append(f"{new_rows} new labelled rows (min_new_rows {settings['min_new_rows']})")
    return reasons


def training_set(strategy: str, old_train: pd.DataFrame, new_train: pd.DataFrame) -> pd.DataFrame:
    if strategy not in STRATEGIES:
        raise ValueError(f"retrain.strategy must be one of {', '.join(STRATEGIES)}, not {strategy!r}")
    if strategy == "separate":
        return new_train
    return pd.concat([old_train, new_train], ignore_index=True)


def train_challenger(
    params: dict[str, Any], strategy: str, batch: pd.DataFrame, old_train: pd.DataFrame
) -> tuple[Any, pd.DataFrame, pd.DataFrame]:
    """Fit the challenger; return it, its training rows and the fresh holdout from the new batch."""
    new_train, holdout = split_holdout(batch, float(params["split"]["holdout_fraction"]), int(params["seed"]))
    train = training_set(strategy, old_train, new_train)
    return fit_model(fit_feature_pipeline(params, train), train, params), train, holdout


def challenge(
    params: dict[str, Any], strategy: str, batch: pd.DataFrame, old_train: pd.DataFrame, decision: dict[str, Any]
) -> dict[str, Any]:
    """Train, compare with the champion on the fresh holdout, register; the champion moves only for a winner."""
    import mlflow

    from ..models.registry import champion_metrics, flatten, log_model, register_and_promote, start_tracking

    model, train, holdout = train_challenger(params, strategy, batch, old_train)
    metrics = evaluate_model(model, holdout, params)
    failures = gate_failures(metrics, params["gate"])
    start_tracking()
    with mlflow.start_run(run_name=f"retrain-{strategy}"), tempfile.TemporaryDirectory() as folder:
        current = champion_metrics(holdout, params)
        decision["champion_version"] = current[0] if current else None
        decision["holdout_rows"] = len(holdout)
        decision["training_rows"] = len(train)
        decision["challenger_metrics"] = {k: v for k, v in metrics.items() if isinstance(v, float)}
        decision["champion_metrics"] = (
            {k: v for k, v in current[1].items() if isinstance(v, float)} if current else None
        )
        mlflow.log_params({f"retrain.{key}": value for key, value in flatten("", params.get("retrain", {})).items()})
        mlflow.log_metrics({k: float(v) for k, v in flatten("", metrics).items() if isinstance(v, (int, float))})
        model_dir = Path(folder) / "model"
        threshold = float(params["evaluate"]["threshold"])
        save_model(model, model_dir, threshold)
        info = log_model(model, model_dir, holdout[FEATURES].head(5), threshold)
        if failures:
            decision["reasons"].append("challenger misses the quality gate: " + "; ".join(failures))
        else:
            version, alias, reason = register_and_promote(info.model_uri, metrics, current, params)
            decision["challenger_version"] = version
            decision["promoted"] = alias == "champion"
            decision["reasons"].append(reason)
        mlflow.set_tags(
            {
                "retrain_decision": "promoted" if decision["promoted"] else "kept champion",
                "retrain_reasons": " | ".join(decision["reasons"])[:5000],
                "retrain_strategy": strategy,
            }
        )
    return decision
