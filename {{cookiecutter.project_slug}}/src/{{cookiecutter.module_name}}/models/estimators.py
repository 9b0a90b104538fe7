"""The estimator named in params.yaml (`model.estimator`), built with its hyperparameters."""

from __future__ import annotations

from typing import Any

from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression

from ..optional import optional_module

ESTIMATORS: dict[str, Any] = {
    "hist_gradient_boosting": HistGradientBoostingClassifier,
    "logistic_regression": LogisticRegression,
}
# with the PyTorch framework, models/mlp.py brings the MLP in place of the random forest
mlp = optional_module("models.mlp")
if mlp is not None:
    ESTIMATORS["mlp"] = mlp.MLPClassifier
else:
    ESTIMATORS["random_forest"] = RandomForestClassifier


def build_estimator(params: dict[str, Any]) -> Any:
    """Instantiate `model.estimator` with the hyperparameters under its own key and the global seed."""
    name = params["model"]["estimator"]
    if name not in ESTIMATORS:
        raise ValueError(f"model.estimator must be one of {sorted(ESTIMATORS)}, not {name!r}")
    hyperparameters = dict(params["model"].get(name) or {})
    return ESTIMATORS[name](random_state=int(params["seed"]), **hyperparameters)
