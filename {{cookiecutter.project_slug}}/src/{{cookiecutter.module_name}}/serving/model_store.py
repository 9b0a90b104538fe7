"""Load the served model once, from a model folder or (from level 2) the MLflow registry, in safe formats only."""

from __future__ import annotations

import logging
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pandas as pd

from ..models.persistence import load_model, model_threshold, read_manifest, write_manifest
from ..optional import optional_module
from ..schema import FEATURES
from .compiled import CompiledModel, NotCompilable

log = logging.getLogger(__name__)

VERSION_KEY = "version"
REGISTRY_SCHEME = "models:/"


@dataclass
class ServedModel:
    """A loaded model, the version string every response carries, its decision threshold and fastest proven scorer."""

    version: str
    model: Any
    threshold: float  # recorded in the model's manifest: a probability at or above it is label 1
    compiled: CompiledModel | None = None

    def __post_init__(self) -> None:
        try:
            self.compiled = CompiledModel(self.model)
        except NotCompilable as reason:
            log.warning("serving through the sklearn pipeline (slower): %s", reason)

    def score(self, records: list[dict[str, Any]]) -> np.ndarray:
        """Churn probability of each record (a dict with at least the feature columns)."""
        if self.compiled is not None:
            return self.compiled.predict_proba(records)
        frame = pd.DataFrame.from_records(records, columns=FEATURES)
        return self.model.predict_proba(frame)[:, 1]


def folder_version(folder: Path) -> str:
    """The version recorded at export, else a short content hash of the model files."""
    manifest = read_manifest(folder)
    if VERSION_KEY in manifest:
        return str(manifest[VERSION_KEY])
    digest = "".join(sorted(manifest["files"].values()))
    return f"local-{digest[:12]}"


def registry_for(uri: str) -> ModuleType | None:
    """models/registry.py when `uri` is `models:/<name>@<alias>` and the project has a registry (level 2 on)."""
    return optional_module("models.registry") if uri.startswith(REGISTRY_SCHEME) else None


def load_served_model(uri: str) -> ServedModel:
    """`uri` is a model folder or, from level 2, `models:/<name>@<alias>` in the MLflow registry."""
    registry = registry_for(uri)
    if registry is None:
        folder = Path(uri)
        return ServedModel(version=folder_version(folder), model=load_model(folder), threshold=model_threshold(folder))
    with tempfile.TemporaryDirectory(prefix="served-model-") as scratch:  # loaded into memory: nothing left behind
        folder, version = registry.download_registered(uri, Path(scratch))
        return ServedModel(version=version, model=load_model(folder), threshold=model_threshold(folder))


def _copy_loadable(folder: Path, output: Path) -> None:
    load_model(folder)  # refuse to export anything that would not load
    shutil.rmtree(output, ignore_errors=True)
    shutil.copytree(folder, output)


def export_model(uri: str, output: Path) -> str:
    """Copy the model behind `uri` into `output` with its version in the manifest (what the image ships).

    The manifest keeps the decision threshold the model was evaluated at.
    """
    version = None
    registry = registry_for(uri)
    if registry is not None:
        with tempfile.TemporaryDirectory() as scratch:
            folder, version = registry.download_registered(uri, Path(scratch))
            _copy_loadable(folder, output)
    else:
        _copy_loadable(Path(uri), output)
    version = version or folder_version(output)
    write_manifest(output, {**read_manifest(output), VERSION_KEY: version})
    return version
