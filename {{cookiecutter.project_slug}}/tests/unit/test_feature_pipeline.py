"""The fitted feature pipeline: scaling, encoding, selection and determinism."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from {{ cookiecutter.module_name }}.features.pipeline import build_feature_pipeline
from {{ cookiecutter.module_name }}.schema import FEATURES, LABEL


def test_scaler_gives_zero_mean_and_unit_variance(model_input: pd.DataFrame, params: dict[str, Any]) -> None:
    pipeline = build_feature_pipeline(params)
    constructed = pipeline[:3].fit_transform(model_input[FEATURES])
    transform = pipeline.named_steps["transform"].fit(constructed)
    scaled = transform.transform(constructed)
    numeric = [name for name in scaled.columns if not name.startswith(("region_", "plan_"))]
    assert np.allclose(scaled[numeric].mean(), 0.0, atol=1e-9)
    assert np.allclose(scaled[numeric].std(ddof=0), 1.0, atol=1e-6)


def test_log_columns_are_log_transformed_before_scaling(model_input: pd.DataFrame, params: dict[str, Any]) -> None:
    pipeline = build_feature_pipeline(params)
    constructed = pipeline[:3].fit_transform(model_input[FEATURES])
    log_step = pipeline.named_steps["transform"].fit(constructed).named_transformers_["log"]
    expected = np.log1p(constructed[params["features"]["log_columns"]]).mean()
    assert log_step.named_steps["scale"].mean_ == pytest.approx(expected.to_numpy())


def test_one_hot_encoding_ignores_unknown_categories(model_input: pd.DataFrame, params: dict[str, Any]) -> None:
    pipeline = build_feature_pipeline(params)
    constructed = pipeline[:3].fit_transform(model_input[FEATURES])
    transform = pipeline.named_steps["transform"].fit(constructed)
    unknown = constructed.head(1).assign(region="atlantis")
    encoded = transform.transform(unknown)
    assert encoded.filter(like="region_").to_numpy().sum() == 0


@pytest.mark.parametrize("method", ["kbest", "rfe"])
def test_selection_keeps_k_features(model_input: pd.DataFrame, params: dict[str, Any], method: str) -> None:
    features = {**params["features"], "selection": method, "k": 7}
    settings = {**params, "features": features}
    out = build_feature_pipeline(settings).fit_transform(model_input[FEATURES], model_input[LABEL])
    assert out.shape == (len(model_input), 7)


def test_unknown_selection_method_is_refused(params: dict[str, Any]) -> None:
    features = {**params["features"], "selection": "magic"}
    with pytest.raises(ValueError, match=r"features\.selection"):
        build_feature_pipeline({**params, "features": features})


def test_pipeline_is_deterministic(model_input: pd.DataFrame, params: dict[str, Any]) -> None:
    first = build_feature_pipeline(params).fit_transform(model_input[FEATURES], model_input[LABEL])
    second = build_feature_pipeline(params).fit_transform(model_input[FEATURES], model_input[LABEL])
    pd.testing.assert_frame_equal(first, second)
