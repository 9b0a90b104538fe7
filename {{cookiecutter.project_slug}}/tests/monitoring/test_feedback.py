"""The feedback loop: the log joined with late labels, metrics per window, degradation against params."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from {{ cookiecutter.module_name }}.monitoring.feedback import (
    expected_calibration_error,
    feedback_report,
    logged_feedback,
)
from {{ cookiecutter.module_name }}.prediction_log.writer import Feedback, PredictionLog
from {{ cookiecutter.module_name }}.serving.compiled import probe_records
from {{ cookiecutter.module_name }}.serving.metrics import ServiceMetrics


def labelled(rows: int, accuracy: float, start: str, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    actual = rng.integers(0, 2, rows)
    correct = rng.random(rows) < accuracy
    predicted = np.where(correct, actual, 1 - actual)
    return pd.DataFrame(
        {
            "served_at": pd.Timestamp(start) + pd.to_timedelta(rng.integers(0, 86_399, rows), unit="s"),
            "probability": np.where(predicted == 1, 0.8, 0.2),
            "predicted": predicted,
            "actual": actual,
        }
    )


def test_the_newest_window_below_the_threshold_is_degraded(params: dict[str, Any]) -> None:
    frame = pd.concat([labelled(500, 0.9, "2026-03-01", 0), labelled(500, 0.6, "2026-03-02", 1)])
    report = feedback_report(frame, params["monitoring"])
    assert [round(window["accuracy"], 1) for window in report["windows"]] == [0.9, 0.6]
    assert report["degraded"] is True
    assert "accuracy 0.6" in report["reasons"][0]


def test_a_healthy_newest_window_is_not_degraded_and_small_windows_are_not_judged(params: dict[str, Any]) -> None:
    frame = pd.concat([labelled(500, 0.6, "2026-03-01", 0), labelled(500, 0.92, "2026-03-02", 1)])
    frame = pd.concat([frame, labelled(10, 0.1, "2026-03-03", 2)])
    report = feedback_report(frame, params["monitoring"])
    assert report["degraded"] is False
    assert [window["judged"] for window in report["windows"]] == [True, True, False]


def test_calibration_error_is_small_when_probabilities_match_outcomes() -> None:
    rng = np.random.default_rng(0)
    probability = rng.random(50_000)
    calibrated = (rng.random(50_000) < probability).astype(int)
    assert expected_calibration_error(calibrated, probability) < 0.01
    assert expected_calibration_error(1 - calibrated, probability) > 0.4


def test_feedback_sent_to_the_service_joins_the_logged_predictions(tmp_path: Path, params: dict[str, Any]) -> None:
    log = PredictionLog(tmp_path / "predictions.db", ServiceMetrics())
    records = probe_records(count=200)
    probabilities = [0.9 if i % 2 else 0.1 for i in range(200)]
    log.record_predictions("request-1", records, probabilities, [i % 2 for i in range(200)], [("1", "primary")] * 200)
    log.record_predictions("request-1", records, probabilities, [0] * 200, [("2", "shadow")] * 200)
    labels = tuple(i % 2 if i < 150 else 1 - i % 2 for i in range(200))
    assert log.submit_feedback("request-1", labels) == (Feedback.ACCEPTED, 200)
    log.close()
    frame = logged_feedback(tmp_path / "predictions.db")
    assert len(frame) == 200  # the shadow's answers are not the served ones
    report = feedback_report(frame, params["monitoring"])
    assert report["overall"]["accuracy"] == pytest.approx(0.75)
