"""Evaluate: holdout metrics against a baseline, fairness across sensitive attributes, importance, plots, gate."""

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
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    brier_score_loss,
    f1_score,
    precision_score,
    recall_score,
    roc_auc_score,
    roc_curve,
)

from ..config import replacing
from ..schema import FEATURES, LABEL, SENSITIVE

ROC_POINTS = 200
FAIRNESS_GAPS = ("demographic_parity_difference", "equal_opportunity_difference")
LIFTED = ("roc_auc", "average_precision")  # metrics also reported as the margin over the baseline


class HoldoutTooSmall(ValueError):
    """The holdout has too few rows of a class for its metrics to mean anything."""


def check_holdout(y_true: np.ndarray, min_per_class: int) -> None:
    positives = int(np.sum(y_true == 1))
    negatives = len(y_true) - positives
    if min(positives, negatives) < min_per_class:
        raise HoldoutTooSmall(
            f"the holdout has {positives} positive and {negatives} negative rows; evaluating needs at least "
            f"{min_per_class} of each (evaluate.min_rows_per_class): add labelled rows or raise split.holdout_fraction"
        )


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
        "average_precision": float(average_precision_score(y_true, proba)),
        "brier": float(brier_score_loss(y_true, proba)),
    }


def baseline_metrics(y_true: np.ndarray, threshold: float) -> dict[str, float]:
    """A prior classifier's metrics: it answers the positive rate for every row.

    The gate's `_over_baseline` bounds compare with these, so a gate means "better than
    knowing nothing but the class balance" whatever the data, not a churn-tuned number.
    """
    return holdout_metrics(y_true, np.full(len(y_true), float(np.mean(y_true))), threshold)


def _group_gaps(y_true: np.ndarray, y_pred: np.ndarray, sensitive: pd.Series, min_group_size: int) -> dict[str, Any]:
    """One attribute's gaps over groups with at least `min_group_size` rows, and its per-group rates."""
    counts = sensitive.value_counts()
    large = counts[counts >= min_group_size].index
    gated = sensitive.isin(large).to_numpy()
    by_group = MetricFrame(
        metrics={"selection_rate": selection_rate, "true_positive_rate": true_positive_rate},
        y_true=y_true,
        y_pred=y_pred,
        sensitive_features=sensitive,
    ).by_group
    measurable = len(large) >= 2 and len(np.unique(y_true[gated])) == 2
    gaps: dict[str, float | None] = dict.fromkeys(FAIRNESS_GAPS)
    if measurable:
        for name, gap in zip(FAIRNESS_GAPS, (demographic_parity_difference, equal_opportunity_difference), strict=True):
            value = float(gap(y_true[gated], y_pred[gated], sensitive_features=sensitive[gated]))
            gaps[name] = None if np.isnan(value) else value
    return {
        "status": "measured" if measurable else f"insufficient: fewer than two groups of {min_group_size} rows",
        **gaps,
        "by_group": {
            str(group): {
                "count": int(counts.get(group, 0)),
                "gated": bool(counts.get(group, 0) >= min_group_size),
                "selection_rate": float(row["selection_rate"]),
                "true_positive_rate": None if np.isnan(row["true_positive_rate"]) else float(row["true_positive_rate"]),
            }
            for group, row in by_group.iterrows()
        },
    }


def fairness_metrics(
    y_true: np.ndarray,
    proba: np.ndarray,
    sensitive: pd.DataFrame,
    threshold: float,
    min_group_size: int = 0,
) -> dict[str, Any]:
    """Demographic parity and equal-opportunity gaps per sensitive attribute, and the worst of each.

    A gap is measured over the groups with at least `min_group_size` rows: smaller groups'
    rates are too noisy to gate on, so they are reported (with their count) but not compared.
    An attribute without two such groups is `insufficient`, never a crash.
    """
    y_pred = (proba >= threshold).astype(int)
    attributes = {
        str(name): _group_gaps(y_true, y_pred, sensitive[name].astype("str").fillna("missing"), min_group_size)
        for name in sensitive.columns
    }
    worst = {
        gap: max((report[gap] for report in attributes.values() if report[gap] is not None), default=None)
        for gap in FAIRNESS_GAPS
    }
    status = "no sensitive attribute in the contract" if not attributes else "measured"
    if attributes and all(report[FAIRNESS_GAPS[0]] is None for report in attributes.values()):
        status = "insufficient"
    return {"status": status, "min_group_size": min_group_size, **worst, "attributes": attributes}


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
    fpr, tpr, _ = roc_curve(y_true, proba)
    keep = np.unique(np.linspace(0, len(fpr) - 1, min(ROC_POINTS, len(fpr))).astype(int))
    plots = {
        "roc.csv": pd.DataFrame({"fpr": fpr[keep].round(5), "tpr": tpr[keep].round(5)}),
        "confusion.csv": pd.DataFrame({"actual": y_true, "predicted": (proba >= threshold).astype(int)}),
    }
    for name, frame in plots.items():
        with replacing(plots_dir / name) as temporary:
            frame.to_csv(temporary, index=False)


def gate_failures(metrics: dict[str, Any], gate: dict[str, float]) -> list[str]:
    """Every bound of params.yaml's `gate` section that the metrics miss.

    Keys are `min_<metric>` or `max_<metric>`; `<metric>` is a holdout metric, a margin over
    the baseline (`roc_auc_over_baseline`) or a fairness gap (checked on its absolute value).
    """
    failures = []
    for key, bound in gate.items():
        kind, name = key.split("_", 1)
        fairness = metrics.get("fairness", {})
        value = fairness.get(name) if name in FAIRNESS_GAPS else metrics.get(name)
        if value is None:
            if name in FAIRNESS_GAPS and fairness.get("status") == "insufficient":
                continue  # reported as insufficient in reports/fairness.json; nothing to compare
            failures.append(f"{name} was not measured ({fairness.get('status', 'unknown metric')}), but {key} is set")
        elif kind == "min" and value < bound:
            failures.append(f"{name} = {value:.4f} is below the minimum {bound}")
        elif kind == "max" and abs(value) > bound:
            failures.append(f"{name} = {value:.4f} is above the maximum {bound}")
    return failures


def fairness_report(holdout: pd.DataFrame, proba: np.ndarray, params: dict[str, Any]) -> dict[str, Any]:
    """Group gaps and per-group rates across each sensitive attribute (reports/fairness.json)."""
    settings = params["evaluate"]
    return fairness_metrics(
        holdout[LABEL].to_numpy(),
        proba,
        holdout[SENSITIVE],
        float(settings["threshold"]),
        int(settings.get("min_group_size", 0)),
    )


def summarize(
    holdout: pd.DataFrame, proba: np.ndarray, params: dict[str, Any], fairness: dict[str, Any]
) -> dict[str, Any]:
    """All holdout metrics, their margins over the baseline, and the fairness gaps the gate checks."""
    threshold = float(params["evaluate"]["threshold"])
    y_true = holdout[LABEL].to_numpy()
    metrics: dict[str, Any] = holdout_metrics(y_true, proba, threshold)
    baseline = baseline_metrics(y_true, threshold)
    metrics["baseline"] = baseline
    for name in LIFTED:
        metrics[f"{name}_over_baseline"] = metrics[name] - baseline[name]
    gaps = {key: fairness[key] for key in FAIRNESS_GAPS}
    metrics["fairness"] = {"status": fairness["status"], **gaps}
    metrics["holdout_rows"] = len(holdout)
    metrics["positive_rate"] = float(np.mean(y_true))
    return metrics


def evaluate_model(model: Any, holdout: pd.DataFrame, params: dict[str, Any]) -> dict[str, Any]:
    """All holdout metrics of one model, as `summarize` gives them."""
    proba = predict_proba(model, holdout)
    return summarize(holdout, proba, params, fairness_report(holdout, proba, params))
