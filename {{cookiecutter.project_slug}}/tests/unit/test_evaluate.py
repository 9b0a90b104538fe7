"""Metrics, fairness gaps and the quality gate."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from {{ cookiecutter.module_name }}.models.evaluate import (
    fairness_metrics,
    gate_failures,
    holdout_metrics,
)


def test_perfect_scores_give_perfect_metrics() -> None:
    y = np.array([0, 0, 1, 1])
    metrics = holdout_metrics(y, np.array([0.1, 0.2, 0.8, 0.9]), threshold=0.5)
    assert metrics == {"accuracy": 1.0, "precision": 1.0, "recall": 1.0, "f1": 1.0, "roc_auc": 1.0}


def test_fairness_gaps_measure_selection_and_true_positive_rates() -> None:
    y = np.array([1, 1, 0, 0, 1, 1, 0, 0])
    proba = np.array([0.9, 0.9, 0.9, 0.1, 0.9, 0.1, 0.1, 0.1])
    groups = pd.Series(["a"] * 4 + ["b"] * 4)
    fairness = fairness_metrics(y, proba, groups, threshold=0.5)
    assert fairness["demographic_parity_difference"] == pytest.approx(0.75 - 0.25)
    assert fairness["equal_opportunity_difference"] == pytest.approx(1.0 - 0.5)


def test_groups_below_the_minimum_size_are_reported_but_not_gated() -> None:
    y = np.array([1, 0, 1, 0, 1, 0, 1])
    proba = np.array([0.9, 0.1, 0.9, 0.1, 0.9, 0.1, 0.1])
    groups = pd.Series(["a"] * 6 + ["tiny"])
    fairness = fairness_metrics(y, proba, groups, threshold=0.5, min_group_size=2)
    assert fairness["by_group"]["tiny"] == {
        "count": 1,
        "gated": False,
        "selection_rate": 0.0,
        "true_positive_rate": 0.0,
    }
    assert fairness["equal_opportunity_difference"] == 0.0


def test_gate_reports_every_missed_bound() -> None:
    fairness = {"demographic_parity_difference": 0.3}
    metrics = {"roc_auc": 0.7, "f1": 0.9, "fairness": fairness}
    gate = {"min_roc_auc": 0.8, "min_f1": 0.5, "max_demographic_parity_difference": 0.1}
    failures = gate_failures(metrics, gate)
    assert len(failures) == 2
    assert "roc_auc = 0.7000 is below the minimum 0.8" in failures[0]
    assert "demographic_parity_difference" in failures[1]


def test_gate_passes_when_every_bound_is_met() -> None:
    fairness = {"equal_opportunity_difference": -0.05}
    metrics = {"roc_auc": 0.9, "fairness": fairness}
    assert gate_failures(metrics, {"min_roc_auc": 0.8, "max_equal_opportunity_difference": 0.1}) == []
