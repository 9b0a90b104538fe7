"""Drift statistics per feature: Kolmogorov-Smirnov or chi-squared, and the population stability index.

A feature is flagged only when the test is significant AND the PSI shows a shift large
enough to matter: on a million logged rows every test is significant, so significance
alone would flag noise; the PSI alone would ignore how much evidence there is.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ..schema import CATEGORICAL_FEATURES, MODEL_INPUT, NUMERIC_FEATURES

EPSILON = 1e-4  # floor for empty bins, so the PSI of a bin that appears or vanishes stays finite


def population_stability_index(reference_share: np.ndarray, current_share: np.ndarray) -> float:
    """PSI = sum((c - r) * ln(c / r)) over the bins; 0 means identical shares."""
    reference_share = np.clip(reference_share, EPSILON, None)
    current_share = np.clip(current_share, EPSILON, None)
    return float(np.sum((current_share - reference_share) * np.log(current_share / reference_share)))


def numeric_drift(reference: np.ndarray, current: np.ndarray, bins: int) -> dict[str, Any]:
    """Two-sample KS test, and the PSI over the reference's quantile bins.

    Bins are closed on the right, so a count feature's values each get their own bin and
    even a fractional shift moves mass between bins. The asymptotic KS distribution is
    exact enough at monitoring sample sizes, where the exact one would take seconds.
    """
    test = stats.ks_2samp(reference, current, method="asymp")
    inner_edges = np.unique(np.quantile(reference, np.linspace(0, 1, bins + 1)[1:-1]))
    reference_bins = np.bincount(np.searchsorted(inner_edges, reference), minlength=len(inner_edges) + 1)
    current_bins = np.bincount(np.searchsorted(inner_edges, current), minlength=len(inner_edges) + 1)
    return {
        "test": "kolmogorov-smirnov",
        "statistic": float(test.statistic),
        "p_value": float(test.pvalue),
        "psi": population_stability_index(reference_bins / len(reference), current_bins / len(current)),
        "reference_mean": float(np.mean(reference)),
        "current_mean": float(np.mean(current)),
    }


def _counts(values: pd.Series, categories: tuple[str, ...]) -> np.ndarray:
    counts = values.value_counts()  # count first, then name: casting a million values to str takes seconds
    counts.index = counts.index.astype(str)
    return counts.reindex(categories, fill_value=0).to_numpy()


def categorical_drift(reference: pd.Series, current: pd.Series, categories: tuple[str, ...]) -> dict[str, Any]:
    """Chi-squared test of homogeneity on the category counts, and the PSI of the shares."""
    reference_counts = _counts(reference, categories)
    current_counts = _counts(current, categories)
    seen = (reference_counts + current_counts) > 0
    table = np.vstack([reference_counts[seen], current_counts[seen]])
    if table.shape[1] < 2:
        statistic, p_value = 0.0, 1.0
    else:
        statistic, p_value, _, _ = stats.chi2_contingency(table, correction=False)
    reference_share = reference_counts / reference_counts.sum()
    current_share = current_counts / current_counts.sum()
    return {
        "test": "chi-squared",
        "statistic": float(statistic),
        "p_value": float(p_value),
        "psi": population_stability_index(reference_share, current_share),
        "reference_shares": dict(zip(categories, np.round(reference_share, 4).tolist(), strict=True)),
        "current_shares": dict(zip(categories, np.round(current_share, 4).tolist(), strict=True)),
    }


def _flag(result: dict[str, Any], settings: dict[str, Any]) -> dict[str, Any]:
    result["drifted"] = bool(result["p_value"] < settings["p_value"] and result["psi"] >= settings["min_psi"])
    return result


def compare(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    settings: dict[str, Any],
    predictions: tuple[np.ndarray, np.ndarray] | None = None,
) -> dict[str, Any]:
    """Judge every feature, and the predicted probabilities (reference, current) when given.

    The reference probabilities must be out-of-sample (the holdout's): scores on the
    training rows are more confident than any new data will get, which reads as drift.
    """
    bins = int(settings["psi_bins"])
    features: dict[str, dict[str, Any]] = {}
    for name in NUMERIC_FEATURES:
        ref, cur = reference[name].to_numpy(dtype=float), current[name].to_numpy(dtype=float)
        ref, cur = ref[~np.isnan(ref)], cur[~np.isnan(cur)]  # missing values are the imputer's, not drift's
        features[name] = _flag({"kind": "numeric", **numeric_drift(ref, cur, bins)}, settings)
    for name in CATEGORICAL_FEATURES:
        allowed = MODEL_INPUT.column(name).allowed or tuple(
            sorted({str(value) for value in (*reference[name].dropna(), *current[name].dropna())})
        )
        features[name] = _flag(
            {"kind": "categorical", **categorical_drift(reference[name], current[name], allowed)}, settings
        )
    prediction = None
    if predictions is not None:
        prediction = _flag({"kind": "numeric", **numeric_drift(*predictions, bins)}, settings)
    drifted = [name for name, result in features.items() if result["drifted"]]
    verdict = len(drifted) >= int(settings["min_drifted_features"]) or bool(prediction and prediction["drifted"])
    return {
        "drifted": verdict,
        "drift_share": len(drifted) / len(features),
        "drifted_features": drifted,
        "prediction_drifted": bool(prediction and prediction["drifted"]),
        "reference_rows": len(reference),
        "current_rows": len(current),
        "thresholds": {key: settings[key] for key in ("p_value", "min_psi", "psi_bins", "min_drifted_features")},
        "features": features,
        "prediction": prediction,
    }
