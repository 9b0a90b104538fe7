"""The saved model loads from its folder, predicts, and refuses to load when tampered with."""

from __future__ import annotations

import datetime
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import skops.io as sio

from {{ cookiecutter.module_name }}.features.pipeline import build_feature_pipeline
from {{ cookiecutter.module_name }}.models.persistence import (
    UntrustedModelError,
    load_model,
    load_skops,
)
from {{ cookiecutter.module_name }}.models.train import fit_model
from {{ cookiecutter.module_name }}.schema import FEATURES, LABEL


def test_model_dir_loads_and_predicts_probabilities(model_dir: Path, model_input: pd.DataFrame) -> None:
    proba = load_model(model_dir).predict_proba(model_input[FEATURES].head(50))
    assert proba.shape == (50, 2)
    assert np.all((proba >= 0) & (proba <= 1))
    assert np.allclose(proba.sum(axis=1), 1.0)


def test_loaded_model_predicts_like_the_fitted_one(
    model_dir: Path, model_input: pd.DataFrame, params: dict[str, Any]
) -> None:
    features = build_feature_pipeline(params).fit(model_input[FEATURES], model_input[LABEL])
    fitted = fit_model(features, model_input, params)
    sample = model_input[FEATURES].head(100)
    assert np.allclose(load_model(model_dir).predict_proba(sample), fitted.predict_proba(sample))


def test_model_accepts_a_single_record(model_dir: Path, model_input: pd.DataFrame) -> None:
    assert load_model(model_dir).predict(model_input[FEATURES].head(1)).shape == (1,)


def test_tampered_model_file_is_refused(model_dir: Path, tmp_path: Path) -> None:
    copy = tmp_path / "model"
    copy.mkdir()
    for path in model_dir.iterdir():
        copy.joinpath(path.name).write_bytes(path.read_bytes())
    manifest = json.loads((copy / "manifest.json").read_text())
    first = next(iter(manifest["files"]))
    (copy / first).write_bytes((copy / first).read_bytes() + b"\0")
    with pytest.raises(UntrustedModelError, match="checksum"):
        load_model(copy)


def test_types_outside_the_allow_list_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "payload.skops"
    sio.dump({"when": datetime.timedelta(days=1)}, path)
    with pytest.raises(UntrustedModelError, match="allow-list"):
        load_skops(path)


def test_feature_pipeline_round_trips(tmp_path: Path, model_input: pd.DataFrame, params: dict[str, Any]) -> None:
    features = build_feature_pipeline(params).fit(model_input[FEATURES], model_input[LABEL])
    path = tmp_path / "features.skops"
    sio.dump(features, path)
    pd.testing.assert_frame_equal(
        load_skops(path).transform(model_input[FEATURES]), features.transform(model_input[FEATURES])
    )
