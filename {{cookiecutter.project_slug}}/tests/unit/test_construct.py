"""Feature construction: ratios, interactions and group deviations."""

from __future__ import annotations

import pandas as pd
import pytest

from {{ cookiecutter.module_name }}.features.construct import (
    GroupDeviation,
    InteractionFeatures,
    RatioFeatures,
    constructed_names,
    construction_steps,
)


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "region": ["north", "north", "south"],
            "txn_total": [100.0, 300.0, 50.0],
            "tenure_months": [9, 0, 4],
            "age": [30, 40, 50],
        }
    )


def test_ratio_adds_numerator_over_denominator_plus_one(frame: pd.DataFrame) -> None:
    out = RatioFeatures(ratios=[("spend_rate", "txn_total", "tenure_months")]).fit_transform(frame)
    assert out["spend_rate"].tolist() == pytest.approx([10.0, 300.0, 10.0])
    assert list(out.columns[:4]) == list(frame.columns)


def test_interaction_is_the_product(frame: pd.DataFrame) -> None:
    out = InteractionFeatures(pairs=[("age", "tenure_months")]).fit_transform(frame)
    assert out["age_x_tenure_months"].tolist() == [270.0, 0.0, 200.0]


def test_group_deviation_uses_training_means_and_falls_back_for_unknown_groups(frame: pd.DataFrame) -> None:
    step = GroupDeviation(group="region", columns=["txn_total"]).fit(frame)
    out = step.transform(pd.DataFrame({"region": ["north", "east"], "txn_total": [250.0, 150.0]}))
    # north mean = 200; "east" was never seen, so the overall mean (150) applies
    assert out["txn_total_vs_region"].tolist() == pytest.approx([50.0, 0.0])


def test_constructed_names_match_transform_output(frame: pd.DataFrame) -> None:
    step = RatioFeatures(ratios=[("spend_rate", "txn_total", "tenure_months")]).fit(frame)
    assert list(step.get_feature_names_out()) == list(step.transform(frame).columns)


def test_construction_comes_from_configuration_and_may_be_empty(frame: pd.DataFrame) -> None:
    settings = {
        "ratios": [["spend_rate", "txn_total", "tenure_months"]],
        "interactions": [],
        "group_deviation": {"group": "region", "columns": ["age"]},
    }
    assert [name for name, _ in construction_steps(settings)] == ["ratios", "group_deviation"]
    assert constructed_names(settings) == ["spend_rate", "age_vs_region"]
    empty: dict = {"ratios": [], "interactions": [], "group_deviation": None}
    assert construction_steps(empty) == []
    assert construction_steps(None) == []


def test_missing_inputs_give_missing_outputs_not_errors(frame: pd.DataFrame) -> None:
    holes = frame.assign(tenure_months=[None, 1.0, 2.0])
    out = RatioFeatures(ratios=[("spend_rate", "txn_total", "tenure_months")]).fit_transform(holes)
    assert out["spend_rate"].isna().tolist() == [True, False, False]
