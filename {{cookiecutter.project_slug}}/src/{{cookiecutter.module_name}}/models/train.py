"""Train: fit the estimator on the featurized training split and save the whole pipeline."""

from __future__ import annotations

import hashlib
import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from sklearn.pipeline import Pipeline

from .. import config
from ..optional import present
from ..schema import FEATURES, LABEL
from .estimators import build_estimator

# torch where the project has the PyTorch model (models/mlp.py)
RUNTIME_PACKAGES = ("numpy", "pandas", "scikit-learn", "skops", "pyarrow", "pyyaml") + (
    ("torch",) if present("models.mlp") else ()
)


TRANSFORM_ROWS = 100_000


def transformed(features: Pipeline, frame: pd.DataFrame) -> Any:
    """The fitted feature pipeline's output, a block of rows at a time.

    The transformation is row by row once fitted, so blocks give the same result, and its
    intermediate copies stay the size of a block however many rows are trained on.
    """
    if len(frame) <= TRANSFORM_ROWS:
        return features.transform(frame[FEATURES])
    starts = range(0, len(frame), TRANSFORM_ROWS)
    return pd.concat(features.transform(frame.iloc[start : start + TRANSFORM_ROWS][FEATURES]) for start in starts)


def fit_model(features: Pipeline, train: pd.DataFrame, params: dict[str, Any]) -> Pipeline:
    """Fit the estimator on the fitted feature pipeline's output; return features + estimator."""
    estimator = build_estimator(params)
    estimator.fit(transformed(features, train), train[LABEL].to_numpy())
    return Pipeline([("features", features), ("classifier", estimator)])


def package_versions(names: tuple[str, ...] = RUNTIME_PACKAGES) -> dict[str, str]:
    versions = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return versions


def git_commit() -> str | None:
    try:
        result = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=False)
    except OSError:
        return None
    return result.stdout.strip() or None


def data_version(raw_dir: Path, lock_file: Path = config.DVC_LOCK_FILE) -> str:
    """The DVC hash of the raw data when DVC tracks it, else a content hash of the raw files."""
    if lock_file.exists():
        lock = yaml.safe_load(lock_file.read_text(encoding="utf-8")) or {}
        for dep in lock.get("stages", {}).get("ingest", {}).get("deps", []):
            if Path(dep.get("path", "")) == raw_dir and dep.get("md5"):
                return f"dvc:{dep['md5']}"
    digest = hashlib.md5(usedforsecurity=False)
    for path in sorted(raw_dir.glob("*.csv")):
        digest.update(path.name.encode())
        with path.open("rb") as raw:  # in blocks: a raw file can be larger than memory
            while block := raw.read(1 << 20):
                digest.update(block)
    return f"md5:{digest.hexdigest()}"


def training_environment(params: dict[str, Any], raw_dir: Path) -> dict[str, Any]:
    """What is needed to reproduce this model: software, seed, hardware, code and data versions."""
    return {
        "python": platform.python_version(),
        "packages": package_versions(),
        "seed": params["seed"],
        "platform": platform.platform(),
        "processor": platform.machine(),
        "cpu_count": os.cpu_count(),
        "git_commit": git_commit(),
        "data_version": data_version(raw_dir),
        "estimator": params["model"]["estimator"],
        "command": " ".join(sys.argv),
    }
