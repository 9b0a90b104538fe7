"""One small project trained once per session; each test gets its own copy to change."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from {{ cookiecutter.module_name }}.cli import main

STAGES = ("ingest", "validate", "featurize", "train", "evaluate")
SIZE = "0.25"  # 5,000 customers: small, but enough for a stable holdout


def update_params(project: Path, **sections: dict) -> None:
    params = yaml.safe_load((project / "params.yaml").read_text())
    for section, values in sections.items():
        params[section].update(values)
    (project / "params.yaml").write_text(yaml.safe_dump(params))


def use_project(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(folder)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{folder / 'mlflow.db'}")


@pytest.fixture(scope="session")
def trained_once(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Generate a sample and run every stage through the CLI, once."""
    folder = tmp_path_factory.mktemp("trained")
    shutil.copy(Path(__file__).resolve().parents[2] / "params.yaml", folder / "params.yaml")
    # a small sample's holdout is noisy: keep the gate's shape, loosen its bounds
    update_params(folder, gate={"min_accuracy": 0.7, "min_f1": 0.3, "min_roc_auc": 0.7})
    with pytest.MonkeyPatch.context() as monkeypatch:
        use_project(folder, monkeypatch)
        assert main(["generate", "--size", SIZE]) == 0
        assert [main([stage]) for stage in STAGES] == [0] * len(STAGES)
    return folder


@pytest.fixture
def trained(trained_once: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the trained project as the working directory."""
    folder = tmp_path / "project"
    shutil.copytree(trained_once, folder)
    use_project(folder, monkeypatch)
    return folder
