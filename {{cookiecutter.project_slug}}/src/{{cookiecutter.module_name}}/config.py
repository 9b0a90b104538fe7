"""Paths and parameters shared by every stage.

Paths are relative to the working directory (the project root), so the same code runs
in the repository, in a DVC stage and in a test's temporary folder.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

PARAMS_FILE = Path("params.yaml")
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
MODEL_DIR = MODELS_DIR / "model"
TRAINING_INFO_FILE = MODELS_DIR / "training.json"
HOLDOUT_SCORES_FILE = MODELS_DIR / "holdout_scores.parquet"  # the model's out-of-sample probabilities
METRICS_FILE = REPORTS_DIR / "metrics.json"
FAIRNESS_FILE = REPORTS_DIR / "fairness.json"
IMPORTANCE_FILE = REPORTS_DIR / "feature_importance.json"
SELECTED_FEATURES_FILE = REPORTS_DIR / "selected_features.json"
VALIDATION_JSON = REPORTS_DIR / "validation.json"
VALIDATION_REPORT = REPORTS_DIR / "validation.md"


def load_params(path: Path = PARAMS_FILE) -> dict[str, Any]:
    """Read params.yaml; a missing file is an error worth stopping for."""
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def write_json(path: Path, payload: Any) -> None:
    """Write indented, key-sorted JSON so DVC metrics diffs stay readable."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))
