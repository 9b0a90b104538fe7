"""Metrics against a prior baseline, fairness gaps per sensitive attribute, and the quality gate."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from {{ cookiecutter.module_name }}.models.evaluate import (
    HoldoutTooSmall,
    baseline_metrics,
    check_holdout,
    fairness_metrics,
    gate_failures,
    holdout_metrics,
)


def test_perfect_scores_give_perfect_metrics() -> None:
    y = np.array([0, 0, 1, 1])
    metrics = holdout_metrics(y, np.array([0.1, 0.2, 0.8, 0.9]), threshold=0.5)
    assert {key: metrics[key] for key in ("accuracy", "precision", "recall", "f1", "roc_auc")} == dict.fromkeys(
        ("accuracy", "precision", "recall", "f1", "roc_auc"), 1.0
    )
    assert metrics["average_precision"] == 1.0
    assert metrics["brier"] == pytest.approx((0.01 + 0.04 + 0.04 + 0.01) / 4)


def test_the_baseline_is_a_prior_classifier_on_a_rare_class() -> None:
    y = np.array([1] * 3 + [0] * 97)  # 3 % positives
    baseline = baseline_metrics(y, threshold=0.5)
    assert baseline["roc_auc"] == 0.5
    assert baseline["average_precision"] == pytest.approx(0.03)
    assert baseline["accuracy"] == pytest.approx(0.97)  # why accuracy alone is no gate on rare classes
    assert baseline["f1"] == 0.0


def test_fairness_gaps_measure_selection_and_true_positive_rates() -> None:
    y = np.array([1, 1, 0, 0, 1, 1, 0, 0])
    proba = np.array([0.9, 0.9, 0.9, 0.1, 0.9, 0.1, 0.1, 0.1])
    groups = pd.DataFrame({"group": ["a"] * 4 + ["b"] * 4})
    fairness = fairness_metrics(y, proba, groups, threshold=0.5)
    assert fairness["demographic_parity_difference"] == pytest.approx(0.75 - 0.25)
    assert fairness["equal_opportunity_difference"] == pytest.approx(1.0 - 0.5)
    assert fairness["attributes"]["group"]["status"] == "measured"


def test_several_sensitive_attributes_are_measured_and_the_worst_gap_is_reported() -> None:
    y = np.array([1, 1, 0, 0, 1, 1, 0, 0])
    proba = np.array([0.9, 0.9, 0.9, 0.1, 0.9, 0.1, 0.1, 0.1])
    groups = pd.DataFrame({"first": ["a"] * 4 + ["b"] * 4, "second": ["x", "y"] * 4})
    fairness = fairness_metrics(y, proba, groups, threshold=0.5)
    assert set(fairness["attributes"]) == {"first", "second"}
    gaps = [report["demographic_parity_difference"] for report in fairness["attributes"].values()]
    assert fairness["demographic_parity_difference"] == max(gaps)


def test_no_sensitive_attribute_means_fairness_is_not_measured() -> None:
    y = np.array([1, 0, 1, 0])
    fairness = fairness_metrics(y, np.array([0.9, 0.1, 0.8, 0.2]), pd.DataFrame(index=range(4)), threshold=0.5)
    assert fairness["status"] == "no sensitive attribute in the contract"
    assert fairness["demographic_parity_difference"] is None


def test_groups_below_the_minimum_size_are_reported_but_not_gated() -> None:
    y = np.array([1, 0, 1, 0, 1, 0, 1])
    proba = np.array([0.9, 0.1, 0.9, 0.1, 0.9, 0.1, 0.1])
    groups = pd.DataFrame({"group": ["a"] * 6 + ["tiny"]})
    fairness = fairness_metrics(y, proba, groups, threshold=0.5, min_group_size=2)
    report = fairness["attributes"]["group"]
    assert report["by_group"]["tiny"] == {
        "count": 1,
        "gated": False,
        "selection_rate": 0.0,
        "true_positive_rate": 0.0,
    }
    assert report["status"].startswith("insufficient")
    assert fairness["status"] == "insufficient"
    assert fairness["equal_opportunity_difference"] is None


def test_an_insufficient_fairness_measure_is_reported_not_failed() -> None:
    fairness = {"status": "insufficient", "demographic_parity_difference": None}
    metrics = {"roc_auc": 0.9, "fairness": fairness}
    assert gate_failures(metrics, {"max_demographic_parity_difference": 0.1}) == []


def test_a_fairness_bound_without_a_sensitive_attribute_fails_the_gate() -> None:
    fairness = {"status": "no sensitive attribute in the contract", "demographic_parity_difference": None}
    failures = gate_failures({"fairness": fairness}, {"max_demographic_parity_difference": 0.1})
    assert failures == [
        "demographic_parity_difference was not measured (no sensitive attribute in the contract), "
        "but max_demographic_parity_difference is set"
    ]


def test_gate_reports_every_missed_bound() -> None:
    fairness = {"status": "measured", "demographic_parity_difference": 0.3}
    metrics = {"roc_auc": 0.7, "f1": 0.9, "roc_auc_over_baseline": 0.2, "fairness": fairness}
    gate = {
        "min_roc_auc": 0.8,
        "min_f1": 0.5,
        "min_roc_auc_over_baseline": 0.25,
        "max_demographic_parity_difference": 0.1,
    }
    failures = gate_failures(metrics, gate)
    assert len(failures) == 3
    assert "roc_auc = 0.7000 is below the minimum 0.8" in failures[0]
    assert "roc_auc_over_baseline = 0.2000 is below the minimum 0.25" in failures[1]
    assert "demographic_parity_difference" in failures[2]


def test_gate_passes_when_every_bound_is_met() -> None:
    fairness = {"status": "measured", "equal_opportunity_difference": -0.05}
    metrics = {"roc_auc": 0.9, "fairness": fairness}
    assert gate_failures(metrics, {"min_roc_auc": 0.8, "max_equal_opportunity_difference": 0.1}) == []


def test_a_holdout_without_enough_rows_of_a_class_is_refused_with_the_counts() -> None:
    with pytest.raises(HoldoutTooSmall, match="the holdout has 3 positive and 57 negative rows"):
        check_holdout(np.array([1] * 3 + [0] * 57), min_per_class=10)
    check_holdout(np.array([1] * 10 + [0] * 50), min_per_class=10)
