"""The estimator named in params.yaml (`model.estimator`), built with its hyperparameters."""

from __future__ import annotations

from typing import Any

from sklearn.ensemble import HistGradientBoostingClassifier{% if not cookiecutter.__torch %}, RandomForestClassifier{% endif %}
from sklearn.linear_model import LogisticRegression
{%- if cookiecutter.__torch %}

from .mlp import MLPClassifier
{%- endif %}

ESTIMATORS: dict[str, Any] = {
    "hist_gradient_boosting": HistGradientBoostingClassifier,
    "logistic_regression": LogisticRegression,
{%- if cookiecutter.__torch %}
    "mlp": MLPClassifier,
{%- else %}
    "random_forest": RandomForestClassifier,
{%- endif %}
}


def build_estimator(params: dict[str, Any]) -> Any:
    """Instantiate `model.estimator` with the hyperparameters under its own key and the global seed."""
    name = params["model"]["estimator"]
    if name not in ESTIMATORS:
        raise ValueError(f"model.estimator must be one of {sorted(ESTIMATORS)}, not {name!r}")
    hyperparameters = dict(params["model"].get(name) or {})
    return ESTIMATORS[name](random_state=int(params["seed"]), **hyperparameters)
