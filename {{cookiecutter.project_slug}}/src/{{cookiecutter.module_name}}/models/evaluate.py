"""Evaluate: holdout metrics, fairness across the sensitive attribute, importance, plots, gate."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from fairlearn.metrics import (
    MetricFrame,
    demographic_parity_difference,
    equal_opportunity_difference,
    selection_rate,
    true_positive_rate,
)
from sklearn.inspection import permutation_importance
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score, roc_auc_score, roc_curve

from ..schema import FEATURES, LABEL, SENSITIVE

ROC_POINTS = 200
FAIRNESS_GAPS = ("demographic_parity_difference", "equal_opportunity_difference")


def predict_proba(model: Any, frame: pd.DataFrame) -> np.ndarray:
    return model.predict_proba(frame[FEATURES])[:, 1]


def holdout_metrics(y_true: np.ndarray, proba: np.ndarray, threshold: float) -> dict[str, float]:
    y_pred = (proba >= threshold).astype(int)
    return {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "precision": float(precision_score(y_true, y_pred, zero_division=0)),
        "recall": float(recall_score(y_true, y_pred, zero_division=0)),
        "f1": float(f1_score(y_true, y_pred, zero_division=0)),
        "roc_auc": float(roc_auc_score(y_true, proba)),
    }


def fairness_metrics(
    y_true: np.ndarray, proba: np.ndarray, sensitive: pd.Series, threshold: float, min_group_size: int = 0
) -> dict[str, Any]:
    """Demographic parity and equal-opportunity gaps, plus the per-group rates behind them.

    The gaps are measured over groups with at least `min_group_size` rows: a smaller group's
    rates are too noisy to gate on, so it is reported (with its count) but not compared.
    """
    y_pred = (proba >= threshold).astype(int)
    counts = sensitive.value_counts()
    gated = sensitive.isin(counts[counts >= min_group_size].index).to_numpy()
    by_group = MetricFrame(
        metrics={"selection_rate": selection_rate, "true_positive_rate": true_positive_rate},
        y_true=y_true,
        y_pred=y_pred,
        sensitive_features=sensitive,
    ).by_group
    gaps = {
        name: float(gap(y_true[gated], y_pred[gated], sensitive_features=sensitive[gated]))
        for name, gap in (
            ("demographic_parity_difference", demographic_parity_difference),
            ("equal_opportunity_difference", equal_opportunity_difference),
        )
    }
    return {
        "sensitive_attribute": SENSITIVE,
        "min_group_size": min_group_size,
        **gaps,
        "by_group": {
            str(group): {
                "count": int(counts.get(group, 0)),
                "gated": bool(counts.get(group, 0) >= min_group_size),
                "selection_rate": float(row["selection_rate"]),
                "true_positive_rate": float(row["true_positive_rate"]),
            }
            for group, row in by_group.iterrows()
        },
    }


def feature_importance(model: Any, holdout: pd.DataFrame, repeats: int, rows: int, seed: int) -> list[dict[str, Any]]:
    """Permutation importance (mean drop in ROC AUC) of each input column, largest first."""
    sample = holdout.sample(n=min(rows, len(holdout)), random_state=seed)
    result = permutation_importance(
        model, sample[FEATURES], sample[LABEL], scoring="roc_auc", n_repeats=repeats, random_state=seed
    )
    ranked = sorted(zip(FEATURES, result.importances_mean, result.importances_std, strict=True), key=lambda r: -r[1])
    return [
        {"feature": name, "importance": round(float(mean), 6), "std": round(float(std), 6)}
        for name, mean, std in ranked
    ]


def write_plots(y_true: np.ndarray, proba: np.ndarray, threshold: float, plots_dir: Path) -> None:
    """ROC curve and confusion-matrix data in the CSV shapes `dvc plots show` renders."""
    plots_dir.mkdir(parents=True, exist_ok=True)
    fpr, tpr, _ = roc_curve(y_true, proba)
    keep = np.unique(np.linspace(0, len(fpr) - 1, min(ROC_POINTS, len(fpr))).astype(int))
    pd.DataFrame({"fpr": fpr[keep].round(5), "tpr": tpr[keep].round(5)}).to_csv(plots_dir / "roc.csv", index=False)
    pd.DataFrame({"actual": y_true, "predicted": (proba >= threshold).astype(int)}).to_csv(
        plots_dir / "confusion.csv", index=False
    )


def gate_failures(metrics: dict[str, Any], gate: dict[str, float]) -> list[str]:
    """Every bound of params.yaml's `gate` section that the metrics miss."""
    failures = []
    for key, bound in gate.items():
        kind, name = key.split("_", 1)
        value = metrics["fairness"][name] if name in metrics["fairness"] else metrics[name]
        if kind == "min" and value < bound:
            failures.append(f"{name} = {value:.4f} is below the minimum {bound}")
        if kind == "max" and abs(value) > bound:
            failures.append(f"{name} = {value:.4f} is above the maximum {bound}")
    return failures


def fairness_report(holdout: pd.DataFrame, proba: np.ndarray, params: dict[str, Any]) -> dict[str, Any]:
    """Group gaps and per-group rates across the sensitive attribute (reports/fairness.json)."""
    settings = params["evaluate"]
    return fairness_metrics(
        holdout[LABEL].to_numpy(),
        proba,
        holdout[SENSITIVE].astype(str),
        float(settings["threshold"]),
        int(settings.get("min_group_size", 0)),
    )


def summarize(
    holdout: pd.DataFrame, proba: np.ndarray, params: dict[str, Any], fairness: dict[str, Any]
) -> dict[str, Any]:
    """All holdout metrics; `fairness` holds the gaps the gate checks (from `fairness_report`)."""
    metrics: dict[str, Any] = holdout_metrics(holdout[LABEL].to_numpy(), proba, float(params["evaluate"]["threshold"]))
    metrics["fairness"] = {key: fairness[key] for key in FAIRNESS_GAPS}
    metrics["holdout_rows"] = len(holdout)
    return metrics


def evaluate_model(model: Any, holdout: pd.DataFrame, params: dict[str, Any]) -> dict[str, Any]:
    """All holdout metrics of one model, as `summarize` gives them."""
    proba = predict_proba(model, holdout)
    return summarize(holdout, proba, params, fairness_report(holdout, proba, params))
