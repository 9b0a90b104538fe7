"""Shared fixtures: small seeded samples and a throw-away project folder per test."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from {{ cookiecutter.module_name }} import config
from {{ cookiecutter.module_name }}.data.generate import generate, write_sources
from {{ cookiecutter.module_name }}.data.ingest import build_model_input, read_sources
from {{ cookiecutter.module_name }}.features.pipeline import build_feature_pipeline
from {{ cookiecutter.module_name }}.models.persistence import save_model
from {{ cookiecutter.module_name }}.models.train import fit_model
from {{ cookiecutter.module_name }}.schema import FEATURES, LABEL

for variable, value in {
    "DVC_NO_ANALYTICS": "1",
    "GX_ANALYTICS_ENABLED": "false",
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "DO_NOT_TRACK": "1",
}.items():
    os.environ.setdefault(variable, value)

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SMALL = 0.05  # 1,000 customers: enough for every aggregation, fast enough for unit tests


@pytest.fixture(scope="session")
def params() -> dict[str, Any]:
    return config.load_params(PROJECT_ROOT / "params.yaml")


@pytest.fixture(scope="session")
def raw_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small seeded sample written as the raw CSV files (shared, read-only)."""
    folder = tmp_path_factory.mktemp("raw")
    write_sources(generate(size=SMALL, seed=7), folder)
    return folder


@pytest.fixture(scope="session")
def sources(raw_dir: Path) -> dict[str, pd.DataFrame]:
    return read_sources(raw_dir)


@pytest.fixture(scope="session")
def model_input(sources: dict[str, pd.DataFrame], params: dict[str, Any]) -> pd.DataFrame:
    return build_model_input(sources, params["data"]["snapshot_date"])


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory, model_input: pd.DataFrame, params: dict[str, Any]) -> Path:
    """A model trained on the small sample and saved as the pipeline saves it."""
    features = build_feature_pipeline(params).fit(model_input[FEATURES], model_input[LABEL])
    folder = tmp_path_factory.mktemp("model") / "model"
    save_model(fit_model(features, model_input, params), folder)
    return folder


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty project folder with this project's params.yaml, as the working directory.

    MLflow tracks into a SQLite file inside it, so tests never touch the real store.
    """
    shutil.copy(PROJECT_ROOT / "params.yaml", tmp_path / "params.yaml")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    return tmp_path
