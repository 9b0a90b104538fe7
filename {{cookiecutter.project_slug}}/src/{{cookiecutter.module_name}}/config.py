"""Paths and parameters shared by every stage, and the atomic writes every output goes through.

Paths are relative to the working directory (the project root), so the same code runs
in the repository, in a DVC stage and in a test's temporary folder.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from .optional import present

PARAMS_FILE = Path("params.yaml")
DVC_FILE = Path("dvc.yaml")
DVC_LOCK_FILE = Path("dvc.lock")
DOCS_DIR = Path("docs")
SOURCE_DIR = Path("src", __name__.partition(".")[0])  # this package's sources, as the project holds them
CONTRACT_FILE = SOURCE_DIR / "contract.yaml"  # the data contract that `adopt` writes (schema.py reads it)
EXAMPLE_DIRS = (SOURCE_DIR / "example", Path("tests/example"))  # what `adopt` and `remove-example` delete
RAW_DIR = Path("data/raw")
INTERIM_DIR = Path("data/interim")
PROCESSED_DIR = Path("data/processed")
MODELS_DIR = Path("models")
REPORTS_DIR = Path("reports")
PLOTS_DIR = REPORTS_DIR / "plots"

MODEL_INPUT_FILE = INTERIM_DIR / "model_input.parquet"
TRAIN_FILE = PROCESSED_DIR / "train.parquet"
HOLDOUT_FILE = PROCESSED_DIR / "holdout.parquet"
FEATURES_FILE = MODELS_DIR / "features.skops"
CANDIDATE_DIR = MODELS_DIR / "candidate"  # what `train` writes; only a model past the quality gate reaches MODEL_DIR
MODEL_DIR = MODELS_DIR / "model"  # the last model that passed the quality gate
TRAINING_INFO_FILE = MODELS_DIR / "training.json"
HOLDOUT_SCORES_FILE = MODELS_DIR / "holdout_scores.parquet"  # the model's out-of-sample probabilities
METRICS_FILE = REPORTS_DIR / "metrics.json"
FAIRNESS_FILE = REPORTS_DIR / "fairness.json"
IMPORTANCE_FILE = REPORTS_DIR / "feature_importance.json"
SELECTED_FEATURES_FILE = REPORTS_DIR / "selected_features.json"
VALIDATION_JSON = REPORTS_DIR / "validation.json"
VALIDATION_REPORT = REPORTS_DIR / "validation.md"
PREDICTION_LOG_FILE = REPORTS_DIR / "predictions.db"  # the service's default prediction log (PREDICTION_LOG)
DRIFT_JSON = REPORTS_DIR / "drift.json"  # the newest drift verdict; the service serves it as gauges (DRIFT_REPORT)
DRIFT_HTML = REPORTS_DIR / "drift.html"
FEEDBACK_JSON = REPORTS_DIR / "feedback.json"
RETRAIN_DECISION_FILE = REPORTS_DIR / "retrain_decision.json"
MLFLOW_RUN_FILE = MODELS_DIR / "mlflow_run.json"  # the tracking run `train` opened, which `evaluate` continues
TRACKING_DB = Path("mlflow.db")  # the default MLflow store (MLFLOW_TRACKING_URI overrides it)
# the registry's champion (level 2 on); the model `serve` and `export` use by default
CHAMPION_URI = "models:/{{ cookiecutter.module_name }}@champion"
SERVED_MODEL_URI = CHAMPION_URI if present("models.registry") else str(MODEL_DIR)
FEATURE_REPO_DIR = Path("feature_repo")  # the Feast feature repository's settings (with feature_store: feast)
FEATURE_STORE_DIR = Path("data/feature_store")  # its local registry, online store and offline source
FEATURE_TABLE_FILE = FEATURE_STORE_DIR / "features.parquet"  # the offline source: features per entity and time
EXPORT_DIR = Path("build/model")  # where `export` copies the served model for the image


def load_params(path: Path = PARAMS_FILE) -> dict[str, Any]:
    """Read params.yaml; a missing file is an error worth stopping for."""
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def _temporary(path: Path) -> Path:
    """A sibling of `path` to write into (same file system: the final rename is atomic).

    What a killed writer left behind is removed first.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    for stale in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        if stale.is_dir():
            shutil.rmtree(stale)
        else:
            stale.unlink()
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


@contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """Write into the yielded path; it replaces `path` only when the block succeeds.

    A crash or an exception mid-write leaves the previous file whole: readers see the old
    file or the new one, never part of one.
    """
    temporary = _temporary(path)
    try:
        yield temporary
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


@contextmanager
def replacing_folder(path: Path) -> Iterator[Path]:
    """Fill the yielded folder; it takes the place of the folder `path` only when the block succeeds.

    The old folder is renamed aside, the new one renamed in, then the old one deleted. A crash
    between the two renames leaves the old folder at `.<name>.previous`: the next call puts it back.
    """
    previous = path.with_name(f".{path.name}.previous")
    if previous.exists() and not path.exists():
        previous.rename(path)
    temporary = _temporary(path)
    shutil.rmtree(temporary, ignore_errors=True)
    temporary.mkdir()
    try:
        yield temporary
        shutil.rmtree(previous, ignore_errors=True)
        if path.exists():
            path.rename(previous)
        try:
            temporary.rename(path)
        except OSError:
            previous.rename(path)
            raise
        shutil.rmtree(previous, ignore_errors=True)
    finally:
        shutil.rmtree(temporary, ignore_errors=True)


def write_text(path: Path, text: str) -> None:
    with replacing(path) as temporary:
        temporary.write_text(text, encoding="utf-8")


def write_json(path: Path, payload: Any) -> None:
    """Write indented, key-sorted JSON so DVC metrics diffs stay readable; atomically, as every output."""
    write_text(path, json.dumps(payload, indent=2, sort_keys=True) + "\n")


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))
