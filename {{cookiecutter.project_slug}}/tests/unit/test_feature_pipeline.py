"""The fitted feature pipeline: scaling, encoding, selection and determinism."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest

from {{ cookiecutter.module_name }}.features.pipeline import (
    build_feature_pipeline,
    fit_feature_pipeline,
    fitting_rows,
)
from {{ cookiecutter.module_name }}.models import train
from {{ cookiecutter.module_name }}.schema import FEATURES, LABEL, Column


def constructed_and_transformed(model_input: pd.DataFrame, params: dict[str, Any]) -> tuple[Any, pd.DataFrame]:
    """The fitted transformation step and the constructed columns it was fitted on."""
    pipeline = build_feature_pipeline(params)
    inputs = model_input[FEATURES]
    constructed = pipeline[:-2].fit_transform(inputs) if len(pipeline) > 2 else inputs  # construction may be empty
    return pipeline.named_steps["transform"].fit(constructed), constructed


def test_numbers_are_scaled_to_zero_mean_and_unit_variance(model_input: pd.DataFrame, params: dict[str, Any]) -> None:
    transform, constructed = constructed_and_transformed(model_input, params)
    scaled = transform.transform(constructed)
    numeric = [name for name in scaled.columns if name in constructed.columns]
    if not numeric:
        pytest.skip("the data contract has no numeric feature")
    assert np.allclose(scaled[numeric].mean(), 0.0, atol=1e-9)
    assert np.allclose(scaled[numeric].std(ddof=0), 1.0, atol=1e-6)


def test_log_columns_are_log_transformed_before_scaling(model_input: pd.DataFrame, params: dict[str, Any]) -> None:
    if not params["features"]["log_columns"]:
        pytest.skip("params.yaml lists no log_columns")
    transform, constructed = constructed_and_transformed(model_input, params)
    log_step = transform.named_transformers_["log"]
    expected = np.log1p(constructed[params["features"]["log_columns"]].astype(float)).mean()
    assert log_step.named_steps["scale"].mean_ == pytest.approx(expected.to_numpy())


def test_one_hot_encoding_ignores_unknown_categories(
    model_input: pd.DataFrame, params: dict[str, Any], feature: Callable[..., Column]
) -> None:
    category = feature("category").name
    transform, constructed = constructed_and_transformed(model_input, params)
    unknown = constructed.head(1).assign(**{category: "atlantis"})
    encoded = transform.transform(unknown)
    assert encoded.filter(like=f"{category}_").to_numpy().sum() == 0


def test_missing_values_are_imputed(model_input: pd.DataFrame, params: dict[str, Any]) -> None:
    transform, constructed = constructed_and_transformed(model_input, params)
    holes = constructed.head(5).copy()
    for column in FEATURES:
        holes[column] = None
    assert not transform.transform(holes.infer_objects()).isna().to_numpy().any()


@pytest.mark.parametrize("method", ["kbest", "rfe"])
def test_selection_keeps_k_features(model_input: pd.DataFrame, params: dict[str, Any], method: str) -> None:
    features = {**params["features"], "selection": method, "k": 3}
    settings = {**params, "features": features}
    out = build_feature_pipeline(settings).fit_transform(model_input[FEATURES], model_input[LABEL])
    assert out.shape == (len(model_input), 3)


def test_a_k_larger_than_the_feature_count_keeps_them_all(model_input: pd.DataFrame, params: dict[str, Any]) -> None:
    features = {**params["features"], "k": 10_000}
    settings = {**params, "features": features}
    out = build_feature_pipeline(settings).fit_transform(model_input[FEATURES], model_input[LABEL])
    assert 0 < out.shape[1] < 10_000


def test_unknown_selection_method_is_refused(params: dict[str, Any]) -> None:
    features = {**params["features"], "selection": "magic"}
    with pytest.raises(ValueError, match=r"features\.selection"):
        build_feature_pipeline({**params, "features": features})


def test_pipeline_is_deterministic(model_input: pd.DataFrame, params: dict[str, Any]) -> None:
    first = build_feature_pipeline(params).fit_transform(model_input[FEATURES], model_input[LABEL])
    second = build_feature_pipeline(params).fit_transform(model_input[FEATURES], model_input[LABEL])
    pd.testing.assert_frame_equal(first, second)


def test_the_pipeline_is_fitted_on_a_stratified_sample_of_fit_rows(
    model_input: pd.DataFrame, params: dict[str, Any]
) -> None:
    limit = len(model_input) // 2
    sample = fitting_rows(model_input, limit, int(params["seed"]))
    assert len(sample) == limit
    assert sample[LABEL].mean() == pytest.approx(model_input[LABEL].mean(), abs=1 / limit)
    pd.testing.assert_frame_equal(sample, fitting_rows(model_input, limit, int(params["seed"])))
    features = {**params["features"], "fit_rows": limit}
    settings = {**params, "features": features}
    fitted = fit_feature_pipeline(settings, model_input)
    blocks = fitted.named_steps["transform"].named_transformers_
    scalers = [blocks[name].named_steps["scale"] for name in ("log", "scale") if name in blocks]
    if not scalers:
        pytest.skip("the data contract has no numeric feature")
    assert {int(scaler.n_samples_seen_) for scaler in scalers} == {limit}


def test_no_fit_rows_fits_on_every_training_row(model_input: pd.DataFrame, params: dict[str, Any]) -> None:
    for limit in (0, len(model_input), 10 * len(model_input)):
        assert fitting_rows(model_input, limit, int(params["seed"])) is model_input


def test_the_training_matrix_is_the_same_built_in_blocks(
    model_input: pd.DataFrame, params: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    fitted = fit_feature_pipeline(params, model_input)
    whole = train.transformed(fitted, model_input)
    monkeypatch.setattr(train, "TRANSFORM_ROWS", len(model_input) // 3)
    pd.testing.assert_frame_equal(train.transformed(fitted, model_input), whole)
