"""Batch scoring with pandas: every row comes back scored or with the reason it was not, chunk by chunk."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from {{ cookiecutter.module_name }}.batch.rows import BatchRefused
from {{ cookiecutter.module_name }}.batch.score import score_files
from {{ cookiecutter.module_name }}.cli import main
from {{ cookiecutter.module_name }}.models.persistence import load_model, model_threshold
from {{ cookiecutter.module_name }}.schema import FEATURES, Column
from {{ cookiecutter.module_name }}.serving.contract import RECORD_COLUMNS
from {{ cookiecutter.module_name }}.serving.model_store import folder_version

THRESHOLD = 0.5
RTOL = 1e-5  # a float32 network's sums depend slightly on how many rows it scores at once
RECORD_NAMES = [column.name for column in RECORD_COLUMNS]


@pytest.fixture
def batch(model_input: pd.DataFrame) -> pd.DataFrame:
    """The model-input rows a client would send: ids and features, as the contract names them."""
    return model_input[RECORD_NAMES].reset_index(drop=True)


def score(batch: pd.DataFrame, model_dir: Path, folder: Path, suffix: str = ".parquet", **options: Any) -> pd.DataFrame:
    folder.mkdir(exist_ok=True)
    source = folder / f"batch{suffix}"
    batch.to_parquet(source) if suffix == ".parquet" else batch.to_csv(source, index=False)
    output = folder / "scores.parquet"
    counts = score_files(source, output, load_model(model_dir), folder_version(model_dir), THRESHOLD, **options)
    scored = pd.read_parquet(output)
    assert (counts.scored, counts.rejected) == (scored["rejected"].isna().sum(), scored["rejected"].notna().sum())
    return scored


def test_every_row_is_scored_by_the_model_in_order(batch: pd.DataFrame, model_dir: Path, tmp_path: Path) -> None:
    scored = score(batch, model_dir, tmp_path)
    expected = load_model(model_dir).predict_proba(batch[FEATURES])[:, 1]
    pd.testing.assert_frame_equal(scored[RECORD_NAMES], batch)
    np.testing.assert_allclose(scored["probability"], expected, rtol=RTOL)
    assert scored["label"].tolist() == (expected >= THRESHOLD).astype(int).tolist()
    assert set(scored["model_version"]) == {folder_version(model_dir)}
    assert scored["rejected"].isna().all()


def test_csv_and_small_chunks_give_the_same_scores(batch: pd.DataFrame, model_dir: Path, tmp_path: Path) -> None:
    whole = score(batch, model_dir, tmp_path / "whole")
    chunked = score(batch, model_dir, tmp_path / "chunked", suffix=".csv", chunk_rows=7)
    np.testing.assert_allclose(chunked["probability"], whole["probability"], rtol=RTOL)
    assert chunked["label"].tolist() == whole["label"].tolist()


def spoil(batch: pd.DataFrame, feature: Callable[..., Column]) -> dict[int, str]:
    """Make some rows invalid (in place); the column each names."""
    bounded = feature("int", "float", bounded=True)
    required = feature("int", "float", nullable=False)
    spoiled = {3: bounded.name, 5: required.name, 8: required.name}
    batch[bounded.name] = batch[bounded.name].astype(object)
    batch[required.name] = batch[required.name].astype(object)
    batch.loc[3, bounded.name] = bounded.max * 10 + 1
    batch.loc[5, required.name] = None
    batch.loc[8, required.name] = "twelve"
    return spoiled


def test_rows_the_contract_refuses_are_kept_with_the_reason_and_the_rest_scored(
    batch: pd.DataFrame, model_dir: Path, tmp_path: Path, feature: Callable[..., Column]
) -> None:
    spoiled = spoil(batch, feature)
    scored = score(batch, model_dir, tmp_path, suffix=".csv")
    assert len(scored) == len(batch)
    rejected = scored[scored["rejected"].notna()]
    assert sorted(rejected.index) == sorted(spoiled)
    for row, column in spoiled.items():
        assert scored.loc[row, "rejected"].startswith(f"{column}: "), scored.loc[row, "rejected"]
    assert rejected["probability"].isna().all()
    assert rejected["label"].isna().all()
    assert scored.drop(index=list(spoiled))["probability"].notna().all()


def test_a_batch_without_a_model_input_column_is_refused_and_the_last_output_kept(
    batch: pd.DataFrame, model_dir: Path, tmp_path: Path
) -> None:
    output = tmp_path / "scores.parquet"
    output.write_bytes(b"the last good scores")
    source = tmp_path / "batch.parquet"
    batch.drop(columns=FEATURES[0]).to_parquet(source)
    with pytest.raises(BatchRefused, match=FEATURES[0]):
        score_files(source, output, load_model(model_dir), "v", THRESHOLD, chunk_rows=10)
    assert output.read_bytes() == b"the last good scores"


def test_the_score_command_uses_the_served_model_and_its_threshold_by_default(trained: Path) -> None:
    holdout = trained / "data/processed/holdout.parquet"
    (trained / "params.yaml").unlink()  # scoring reads no parameters: it runs where the project's files are not
    assert main(["score", str(holdout), "scores.parquet"]) == 0
    scored = pd.read_parquet(trained / "scores.parquet")
    assert len(scored) == len(pd.read_parquet(holdout))
    assert scored["probability"].between(0, 1).all()
    assert scored["rejected"].isna().all()
    threshold = model_threshold(trained / "models/model")  # the served model's own, as the service answers
    assert scored["label"].tolist() == (scored["probability"] >= threshold).astype(int).tolist()
