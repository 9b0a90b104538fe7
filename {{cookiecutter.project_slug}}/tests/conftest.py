"""Shared fixtures: small seeded samples drawn for the data contract, and a throw-away project folder.

The samples follow contract.yaml, whatever table it describes: the contract's own sample
generator when its aggregation ships one (the example does), else synthetic rows with a
planted signal (data/synthetic.py). No fixture names a column.
"""

from __future__ import annotations

import os

# One thread per numeric library (OpenMP, BLAS, torch): the tests fit small samples, where threads cost more than
# they give and, on a busy machine, spin against each other. Read when the libraries load, so set before them.
os.environ.setdefault("OMP_NUM_THREADS", "1")

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from {{ cookiecutter.module_name }} import config
from {{ cookiecutter.module_name }}.cli import STAGES as PIPELINE_STAGES
from {{ cookiecutter.module_name }}.data.ingest import build_model_input, read_sources
from {{ cookiecutter.module_name }}.data.synthetic import write_sample
from {{ cookiecutter.module_name }}.features.pipeline import build_feature_pipeline
from {{ cookiecutter.module_name }}.models.persistence import save_model
from {{ cookiecutter.module_name }}.models.train import fit_model
from {{ cookiecutter.module_name }}.schema import FEATURES, LABEL, MODEL_INPUT, Column

for variable, value in {
    "DVC_NO_ANALYTICS": "1",
    "GX_ANALYTICS_ENABLED": "false",
    "MLFLOW_DISABLE_TELEMETRY": "true",
    "DO_NOT_TRACK": "1",
}.items():
    os.environ.setdefault(variable, value)

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SMALL = 1_000  # rows (entities): enough for every aggregation, fast enough for unit tests


def feature_column(*kinds: str, nullable: bool | None = None, bounded: bool = False) -> Column:
    """The first feature of these dtypes; the test is skipped (and says why) when the contract has none."""
    for column in MODEL_INPUT.by_role("feature"):
        if column.dtype not in kinds or (nullable is not None and column.nullable != nullable):
            continue
        if bounded and column.max is None:
            continue
        return column
    pytest.skip(f"the data contract has no {'/'.join(kinds)} feature{' with a maximum' if bounded else ''}")


@pytest.fixture(scope="session")
def feature() -> Callable[..., Column]:
    """`feature("int", "float", bounded=True)`: a contract column to aim a test at."""
    return feature_column


@pytest.fixture(scope="session")
def params() -> dict[str, Any]:
    return config.load_params(PROJECT_ROOT / "params.yaml")


@pytest.fixture(scope="session")
def raw_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small seeded sample written as the raw files (shared, read-only)."""
    folder = tmp_path_factory.mktemp("raw")
    write_sample(folder, SMALL, seed=7)
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
    save_model(fit_model(features, model_input, params), folder, float(params["evaluate"]["threshold"]))
    return folder


def copy_settings(folder: Path) -> None:
    """This project's params.yaml, and its feature repository's settings where it has a feature store."""
    shutil.copy(PROJECT_ROOT / "params.yaml", folder / "params.yaml")
    if (PROJECT_ROOT / config.FEATURE_REPO_DIR).is_dir():
        shutil.copytree(PROJECT_ROOT / config.FEATURE_REPO_DIR, folder / config.FEATURE_REPO_DIR)


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty project folder with this project's params.yaml, as the working directory.

    MLflow tracks into a SQLite file inside it, so tests never touch the real store.
    """
    copy_settings(tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    return tmp_path


STAGES = tuple(PIPELINE_STAGES)  # ingest, validate, (materialize, with a feature store,) featurize, train, evaluate
TRAINED_ROWS = 5_000  # small, but enough for a stable holdout
# permutation importance is most of an evaluate run; the tests need its ranking, not its precision
QUICK_IMPORTANCE = {"permutation_repeats": 1, "permutation_rows": 500}


def write_params(project: Path, **sections: dict[str, Any]) -> None:
    """Update sections of a project's params.yaml (keys merged into each section)."""
    params = yaml.safe_load((project / "params.yaml").read_text())
    for section, values in sections.items():
        params[section].update(values)
    (project / "params.yaml").write_text(yaml.safe_dump(params))


@pytest.fixture(scope="session")
def update_params() -> Callable[..., None]:
    """`update_params(project, gate={...})`: change a trained copy's params.yaml."""
    return write_params


def use_project(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(folder)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{folder / 'mlflow.db'}")


@pytest.fixture(scope="session")
def trained_once(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A sample written as data/raw, then every stage run through the CLI, once."""
    from {{ cookiecutter.module_name }}.cli import main

    folder = tmp_path_factory.mktemp("trained")
    copy_settings(folder)
    write_params(folder, evaluate=QUICK_IMPORTANCE)
    with pytest.MonkeyPatch.context() as monkeypatch:
        use_project(folder, monkeypatch)
        write_sample(folder / config.RAW_DIR, TRAINED_ROWS, seed=11)
        assert [main([stage]) for stage in STAGES] == [0] * len(STAGES)
    return folder


@pytest.fixture
def trained(trained_once: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the trained project as the working directory."""
    folder = tmp_path / "project"
    shutil.copytree(trained_once, folder)
    use_project(folder, monkeypatch)
    return folder
