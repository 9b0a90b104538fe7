"""The compiled scoring path is the fitted pipeline, to the last digit that matters."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.preprocessing import MinMaxScaler

from {{ cookiecutter.module_name }}.models.persistence import load_model
from {{ cookiecutter.module_name }}.schema import (
    FEATURES,
    ID,
    MODEL_INPUT,
    NULLABLE_FEATURES,
    Column,
)
from {{ cookiecutter.module_name }}.serving.compiled import (
    CompiledModel,
    NotCompilable,
    probe_records,
)
from {{ cookiecutter.module_name }}.serving.model_store import ServedModel


def test_compiled_scores_equal_the_pipeline_on_the_sample(model_dir: Path, model_input: pd.DataFrame) -> None:
    model = load_model(model_dir)
    records = model_input[FEATURES].to_dict("records")
    expected = model.predict_proba(model_input[FEATURES])[:, 1]
    assert np.max(np.abs(CompiledModel(model).predict_proba(records) - expected)) < 1e-9


def test_compiled_features_equal_the_pipeline_features(model_dir: Path, model_input: pd.DataFrame) -> None:
    from {{ cookiecutter.module_name }}.serving.compiled import columns_of

    model = load_model(model_dir)
    records = model_input[FEATURES].to_dict("records")
    expected = model.steps[0][1].transform(model_input[FEATURES]).to_numpy()
    actual = CompiledModel(model).features.transform(columns_of(records))
    assert actual.shape == expected.shape
    assert np.allclose(actual, expected, rtol=0, atol=1e-12)


def test_unseen_categories_score_like_the_pipeline(
    model_dir: Path, records: list[dict[str, Any]], feature: Callable[..., Column]
) -> None:
    model = load_model(model_dir)
    odd = [{**record, feature("category").name: "atlantis"} for record in records[:5]]
    expected = model.predict_proba(pd.DataFrame.from_records(odd, columns=FEATURES))[:, 1]
    assert np.allclose(CompiledModel(model).predict_proba(odd), expected, rtol=0, atol=1e-9)


def test_probe_records_satisfy_the_request_contract() -> None:
    from {{ cookiecutter.module_name }}.serving.contract import Record

    identity = {ID: MODEL_INPUT.column(ID).min or 1 if MODEL_INPUT.column(ID).numeric else "id-1"} if ID else {}
    for record in probe_records(count=10):
        Record.model_validate({**record, **identity})


def test_missing_values_score_like_the_pipeline(model_dir: Path, records: list[dict[str, Any]]) -> None:
    if not NULLABLE_FEATURES:
        pytest.skip("the data contract has no nullable feature")
    model = load_model(model_dir)
    holes = [{**record, **dict.fromkeys(NULLABLE_FEATURES, None)} for record in records[:7]]
    frame = pd.DataFrame.from_records(holes, columns=FEATURES)
    expected = model.predict_proba(frame)[:, 1]
    assert np.allclose(CompiledModel(model).predict_proba(holes), expected, rtol=0, atol=1e-9)


def test_a_pipeline_the_compiler_does_not_know_falls_back_to_sklearn(
    model_dir: Path, records: list[dict[str, Any]]
) -> None:
    model = load_model(model_dir)
    transform = model.steps[0][1].named_steps["transform"]
    index = next(i for i, (name, _, _) in enumerate(transform.transformers_) if name in ("scale", "log"))
    name, _, columns = transform.transformers_[index]
    transform.transformers_[index] = (
        name,
        MinMaxScaler().fit(pd.DataFrame(np.zeros((2, len(columns))), columns=columns)),
        columns,
    )
    with pytest.raises(NotCompilable):
        CompiledModel(model)
    served = ServedModel(version="x", model=model, threshold=0.5)
    assert served.compiled is None
    assert served.score(records[:3]).shape == (3,)
