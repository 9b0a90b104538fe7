"""The feedback loop: predictions joined with the ground truth that arrived later, judged per time window.

Ground truth comes from `/feedback` (joined to the prediction log on request id and row) or
from a labelled batch. Each window reports accuracy, F1 and calibration (Brier score and
expected calibration error); the newest window with enough labels decides `degraded`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, brier_score_loss, f1_score

from ..prediction_log.readers import labelled_answers
from .windows import read_log

CALIBRATION_BINS = 10


def logged_feedback(target: str | Path) -> pd.DataFrame:
    """Served predictions that have a ground-truth label (the newest one when sent twice)."""
    return read_log(labelled_answers, target, "serve predictions and send /feedback first")


def expected_calibration_error(actual: np.ndarray, probability: np.ndarray, bins: int = CALIBRATION_BINS) -> float:
    """Mean gap between predicted probability and observed positive rate, weighted by bin size."""
    which = np.minimum((probability * bins).astype(int), bins - 1)
    predicted = np.bincount(which, weights=probability, minlength=bins)
    observed = np.bincount(which, weights=actual, minlength=bins)
    return float(np.abs(predicted - observed).sum() / len(actual))


def window_metrics(frame: pd.DataFrame) -> dict[str, Any]:
    actual, predicted = frame["actual"].to_numpy(int), frame["predicted"].to_numpy(int)
    probability = frame["probability"].to_numpy(float)
    return {
        "labelled": len(frame),
        "accuracy": float(accuracy_score(actual, predicted)),
        "f1": float(f1_score(actual, predicted, zero_division=0)),
        "brier": float(brier_score_loss(actual, probability)),
        "calibration_error": expected_calibration_error(actual, probability),
        "positive_rate": float(actual.mean()),
    }


def feedback_report(frame: pd.DataFrame, settings: dict[str, Any]) -> dict[str, Any]:
    """Metrics per window and overall; degraded when the newest judged window misses a threshold."""
    thresholds = {key: settings[key] for key in ("feedback_window", "min_labelled", "min_accuracy", "min_f1")}
    if frame.empty:
        return {"degraded": False, "reasons": [], "overall": {"labelled": 0}, "windows": [], "thresholds": thresholds}
    windows = []
    for start, group in frame.groupby(pd.Grouper(key="served_at", freq=settings["feedback_window"])):
        if len(group):
            metrics = window_metrics(group)
            metrics["judged"] = len(group) >= int(settings["min_labelled"])
            windows.append({"window_start": start.isoformat(), **metrics})
    judged = [window for window in windows if window["judged"]]
    reasons = []
    if judged:
        latest = judged[-1]
        for metric in ("accuracy", "f1"):
            bound = float(settings[f"min_{metric}"])
            if latest[metric] < bound:
                reasons.append(f"{metric} {latest[metric]:.4f} < {bound} in the window from {latest['window_start']}")
    return {
        "degraded": bool(reasons),
        "reasons": reasons,
        "overall": window_metrics(frame),
        "windows": windows,
        "thresholds": thresholds,
    }
