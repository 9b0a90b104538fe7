"""Save and load models in safe formats only: skops for sklearn objects, state_dict for torch.

Loading never unpickles arbitrary objects: skops refuses any type outside the
allow-list below (this package, scikit-learn, NumPy, SciPy), so a tampered model
file cannot run code.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from pathlib import Path
from typing import Any

import skops.io as sio

from ..config import replacing, replacing_folder

log = logging.getLogger(__name__)

PACKAGE = __name__.split(".")[0]
TRUSTED_MODULES = (PACKAGE, "sklearn", "numpy", "scipy", "collections")
MODEL_FILE = "model.skops"
WEIGHTS_FILE = "weights.pt"
MANIFEST_FILE = "manifest.json"
LEGACY_THRESHOLD = 0.5
THRESHOLD_KEY = "threshold"  # the decision threshold travels with the model: whoever serves it answers the same labels


class UntrustedModelError(RuntimeError):
    """The model file references types outside the allow-list."""


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def save_skops(obj: Any, path: Path) -> None:
    with replacing(path) as temporary:
        sio.dump(obj, temporary)


def load_skops(path: Path) -> Any:
    """Load a skops file, trusting only types from the allow-listed modules."""
    untrusted = sio.get_untrusted_types(file=path)
    refused = [name for name in untrusted if name.split(".")[0] not in TRUSTED_MODULES]
    if refused:
        raise UntrustedModelError(f"{path} references types outside the allow-list: {refused}")
    return sio.load(path, trusted=untrusted)


def save_model(model: Any, directory: Path, threshold: float) -> None:
    """Write the fitted pipeline (and torch weights, if any) with a manifest, replacing `directory` whole.

    The manifest holds each file's checksum and the decision threshold the model answers labels with.
    """
    with replacing_folder(directory) as folder:
        estimator = model.steps[-1][1]
        files = [MODEL_FILE]
        if hasattr(estimator, "save_weights"):
            estimator.save_weights(folder / WEIGHTS_FILE)
            files.append(WEIGHTS_FILE)
        sio.dump(model, folder / MODEL_FILE)
        checksums = {name: _sha256(folder / name) for name in files}
        write_manifest(folder, {"files": checksums, THRESHOLD_KEY: float(threshold)})


def read_manifest(directory: Path) -> dict[str, Any]:
    return json.loads((directory / MANIFEST_FILE).read_text(encoding="utf-8"))


def write_manifest(directory: Path, manifest: dict[str, Any]) -> None:
    (directory / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")


def record_threshold(directory: Path, threshold: float) -> None:
    """Set the decision threshold a model folder answers with (the one its evaluation used)."""
    write_manifest(directory, {**read_manifest(directory), THRESHOLD_KEY: float(threshold)})


def model_threshold(directory: Path) -> float:
    """The probability at or above which the model in `directory` answers label 1."""
    manifest = read_manifest(directory)
    if THRESHOLD_KEY not in manifest:  # saved before models carried their threshold: they were served at 0.5
        log.warning("%s records no decision threshold: answering at %s", directory / MANIFEST_FILE, LEGACY_THRESHOLD)
        return LEGACY_THRESHOLD
    return float(manifest[THRESHOLD_KEY])


def check_checksums(directory: Path) -> None:
    """Refuse a model folder whose files differ from its manifest (tampered with, or written only in part)."""
    for name, digest in read_manifest(directory)["files"].items():
        if _sha256(directory / name) != digest:
            raise UntrustedModelError(f"{directory / name} does not match its checksum in {MANIFEST_FILE}")


def promote_model(candidate: Path, target: Path, threshold: float) -> None:
    """Make a copy of the candidate folder the model at `target`, in one step: `target` is never half-written.

    The copy records `threshold`, the one the candidate was evaluated at.
    """
    check_checksums(candidate)
    with replacing_folder(target) as folder:
        shutil.copytree(candidate, folder, dirs_exist_ok=True)
        record_threshold(folder, threshold)


def load_model(directory: Path) -> Any:
    """Load a model folder written by save_model, after checking its checksums."""
    check_checksums(directory)
    model = load_skops(directory / MODEL_FILE)
    estimator = model.steps[-1][1]
    if hasattr(estimator, "load_weights"):
        estimator.load_weights(directory / WEIGHTS_FILE)
    return model
