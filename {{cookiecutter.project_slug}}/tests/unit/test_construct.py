"""Feature construction: ratios, interactions and group deviations, on DataFrames and on NumPy columns."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pandas as pd
import pytest

from {{ cookiecutter.module_name }}.data.synthetic import records
from {{ cookiecutter.module_name }}.features.construct import (
    Constructor,
    GroupDeviation,
    InteractionFeatures,
    RatioFeatures,
    constructed_names,
    construction_steps,
)
from {{ cookiecutter.module_name }}.schema import CATEGORICAL_FEATURES, FEATURES, NUMERIC_FEATURES
from {{ cookiecutter.module_name }}.serving.compiled import FEATURE_COLUMNS, columns_of


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


def each_kind_of_step(params: dict[str, Any]) -> list[Constructor]:
    """The configured steps, and one step of each kind over the contract's own columns."""
    a, b = (NUMERIC_FEATURES * 2)[:2]
    steps: list[Constructor] = [RatioFeatures([("ratio", a, b)]), InteractionFeatures([(a, b)])]
    if CATEGORICAL_FEATURES:
        steps.append(GroupDeviation(CATEGORICAL_FEATURES[0], [a, b]))
    return steps + [step for _, step in construction_steps(params["features"].get("construct"))]


@pytest.mark.parametrize("nullable", ["as the contract allows", "in every column"])
def test_each_step_computes_the_same_columns_from_a_frame_and_from_arrays(
    params: dict[str, Any], nullable: str
) -> None:
    """The pipeline's form (a DataFrame) and the compiled serving path's (NumPy columns) agree, nulls included."""
    columns = FEATURE_COLUMNS
    if nullable == "in every column":
        columns = [dataclasses.replace(column, nullable=True) for column in FEATURE_COLUMNS]
    # the draw puts nulls on the same rows in every column: shuffle each column so they meet values
    rng = np.random.default_rng(3)
    drawn = records(columns, count=200, seed=3)
    shuffled = {name: [drawn[i][name] for i in rng.permutation(len(drawn))] for name in FEATURES}
    drawn = [{name: shuffled[name][i] for name in FEATURES} for i in range(len(drawn))]
    frame = pd.DataFrame.from_records(drawn, columns=FEATURES)
    steps = each_kind_of_step(params)
    if CATEGORICAL_FEATURES:
        assert {type(step) for step in steps} == set(Constructor.__subclasses__()), "a kind of step is not checked"
    for step in steps:
        from_frame = step.fit(frame).transform(frame)[step.new_names()]
        from_arrays = step.compute(columns_of(drawn))
        for name in step.new_names():
            assert from_frame[name].isna().any() or nullable != "in every column", f"{name} never saw a null"
            np.testing.assert_array_equal(from_frame[name].to_numpy(dtype=float), from_arrays[name], err_msg=name)
