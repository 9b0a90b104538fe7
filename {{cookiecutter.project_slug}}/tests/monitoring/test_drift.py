"""Drift statistics: calibrated on same-distribution windows, powerful on injected shifts, strict on bad input."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from {{ cookiecutter.module_name }}.data.synthetic import labelled_frame
from {{ cookiecutter.module_name }}.monitoring.drift import compare, population_stability_index
from {{ cookiecutter.module_name }}.monitoring.windows import (
    WindowError,
    check_window,
    logged_window,
)
from {{ cookiecutter.module_name }}.prediction_log.writer import PredictionLog
from {{ cookiecutter.module_name }}.schema import (
    CATEGORICAL_FEATURES,
    FEATURES,
    ID,
    MODEL_INPUT,
    NUMERIC_FEATURES,
)
from {{ cookiecutter.module_name }}.serving.metrics import ServiceMetrics

SEEDS = range(50)
WINDOW_ROWS = 5_000  # the statistics are judged at a fixed window size, whatever the project's data size


@pytest.fixture(scope="module")
def population() -> pd.DataFrame:
    """50,000 rows drawn from the data contract: every window below is a sample of one distribution."""
    return labelled_frame(50_000, seed=123)


@pytest.fixture(scope="module")
def settings(params: dict[str, Any]) -> dict[str, Any]:
    return {**params["monitoring"], "reference_rows": WINDOW_ROWS, "window_rows": WINDOW_ROWS, "min_rows": 200}


def windows(population: pd.DataFrame, settings: dict[str, Any], seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A reference and a current window of the default sizes, disjoint, from the same population."""
    shuffled = population.sample(frac=1.0, random_state=seed).reset_index(drop=True)
    reference_rows, current_rows = int(settings["reference_rows"]), int(settings["window_rows"])
    return shuffled.iloc[:reference_rows], shuffled.iloc[reference_rows : reference_rows + current_rows].copy()


def test_same_distribution_flags_no_more_than_the_false_positive_rate(population, settings) -> None:
    flagged, significant, tests = 0, 0, 0
    for seed in SEEDS:
        report = compare(*windows(population, settings, seed), settings)
        flagged += len(report["drifted_features"])
        significant += sum(result["p_value"] < settings["p_value"] for result in report["features"].values())
        tests += len(report["features"])
    assert flagged / tests <= settings["p_value"]
    # the tests themselves are calibrated, not merely silenced by the PSI bound
    assert significant / tests <= settings["p_value"] + 3 * np.sqrt(settings["p_value"] / tests)


@pytest.mark.parametrize("feature", NUMERIC_FEATURES)
def test_half_a_standard_deviation_shift_is_detected_in_that_feature_only(population, settings, feature) -> None:
    reference, current = windows(population, settings, seed=1)
    current[feature] = current[feature] + 0.5 * reference[feature].std()
    report = compare(reference, current, settings)
    assert report["drifted_features"] == [feature]
    assert report["drifted"] is True


@pytest.mark.parametrize("feature", CATEGORICAL_FEATURES)
def test_a_twenty_point_move_in_one_category_is_detected_in_that_feature_only(population, settings, feature) -> None:
    reference, current = windows(population, settings, seed=2)
    target = MODEL_INPUT.column(feature).allowed[0]
    others = current.index[current[feature] != target]
    moved = np.random.default_rng(0).choice(others, size=int(0.2 * len(current)), replace=False)
    current.loc[moved, feature] = target
    report = compare(reference, current, settings)
    assert report["drifted_features"] == [feature]
    assert (
        report["features"][feature]["current_shares"][target]
        >= report["features"][feature]["reference_shares"][target] + 0.19
    )


def test_identical_shares_have_zero_psi() -> None:
    shares = np.array([0.2, 0.3, 0.5])
    assert population_stability_index(shares, shares) == 0.0
    assert population_stability_index(shares, shares[::-1]) > 0.25


NUMBER = next((name for name in NUMERIC_FEATURES if not MODEL_INPUT.column(name).nullable), None)
CATEGORY = CATEGORICAL_FEATURES[0] if CATEGORICAL_FEATURES else None
BREAKAGES = {
    "empty": ("", lambda frame: frame.iloc[:0], "0 row(s), fewer than monitoring.min_rows"),
    "missing-column": (
        FEATURES[0],
        lambda frame: frame.drop(columns=[FEATURES[0]]),
        f"missing column(s) {FEATURES[0]}",
    ),
    "unknown-category": (
        CATEGORY,
        lambda frame: frame.assign(**{CATEGORY: "platinum"}),
        f"column {CATEGORY} has values outside the contract: ['platinum']",
    ),
    "wrong-type": (NUMBER, lambda frame: frame.assign(**{NUMBER: "cheap"}), f"column {NUMBER} should be numeric"),
    "nulls": (NUMBER, lambda frame: frame.assign(**{NUMBER: np.nan}), f"column {NUMBER} has"),
}


@pytest.mark.parametrize("kind", BREAKAGES)
def test_a_broken_current_window_is_an_error_not_a_verdict(population, settings, kind) -> None:
    column, breakage, message = BREAKAGES[kind]
    if column is None:
        pytest.skip(f"the data contract has no feature to break this way ({kind})")
    current = breakage(population.head(1000)[FEATURES].copy())
    with pytest.raises(WindowError, match=r"^current: .*") as error:
        check_window(current, "current", settings["min_rows"])
    assert message in str(error.value)


def test_the_prediction_log_is_a_window_of_the_newest_primary_answers(
    model_input: pd.DataFrame, tmp_path: Path, settings: dict[str, Any]
) -> None:
    log = PredictionLog(tmp_path / "predictions.db", ServiceMetrics())
    records = model_input[[*([ID] if ID else []), *FEATURES]].astype(object)
    records = records.where(records.notna(), None).to_dict("records")
    for start in range(0, 1000, 250):
        batch = records[start : start + 250]
        probabilities = [start / 1000] * len(batch)
        primary, shadow = [("1", "primary")] * len(batch), [("2", "shadow")] * len(batch)
        log.record_predictions(f"request-{start}", batch, probabilities, [0] * len(batch), primary)
        log.record_predictions(f"request-{start}", batch, [1.0] * len(batch), [1] * len(batch), shadow)
    log.close()
    window = check_window(logged_window(tmp_path / "predictions.db", 500), "log", settings["min_rows"])
    assert len(window) == 500
    assert sorted(window["probability"].unique()) == [0.5, 0.75]  # the newest two requests, primary only
    newest = model_input.iloc[500:][FEATURES].sort_values(FEATURES).reset_index(drop=True)
    logged = window[FEATURES].sort_values(FEATURES).reset_index(drop=True)
    pd.testing.assert_frame_equal(logged, newest, check_dtype=False)
    assert compare(model_input.iloc[:500], window, settings)["drifted_features"] == []
    with pytest.raises(WindowError, match="no prediction log"):
        logged_window(tmp_path / "missing.db", 0)
