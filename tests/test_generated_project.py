"""Each level x framework: the generated project's own tests and pipeline pass on its sample data.

These run the real thing: `make test` and `make pipeline` of a freshly generated project
installed into this environment, DVC with a local remote, MLflow with its SQLite store.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import yaml
from cookiecutter.main import cookiecutter
from helpers import CHOICES, TEMPLATE

pytestmark = pytest.mark.slow

VENV = Path(sys.prefix)
COMBOS = [(level, framework) for level in CHOICES["maturity_level"] for framework in CHOICES["model_framework"]]


def run(command: list[str], cwd: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": f"{VENV / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    env.pop("MLFLOW_TRACKING_URI", None)
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    if check:
        assert result.returncode == 0, f"{' '.join(command)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result


def registered_versions(project: Path) -> int:
    with sqlite3.connect(project / "mlflow.db") as db:
        return db.execute("select count(*) from model_versions").fetchone()[0]


def assert_gate_met(project: Path) -> dict:
    metrics = json.loads((project / "reports/metrics.json").read_text())
    gate = yaml.safe_load((project / "params.yaml").read_text())["gate"]
    for key, bound in gate.items():
        kind, name = key.split("_", 1)
        value = metrics["fairness"][name] if name in metrics["fairness"] else metrics[name]
        assert (value >= bound) if kind == "min" else (abs(value) <= bound), f"{name}={value} misses {key}={bound}"
    assert metrics["gate_passed"] is True
    return metrics


def corrupt_one_age(project: Path) -> None:
    customers = project / "data/raw/customers.csv"
    header, first, *rest = customers.read_text().splitlines()
    row = first.split(",")
    row[header.split(",").index("age")] = "250"
    customers.write_text("\n".join([header, ",".join(row), *rest]) + "\n")


@contextmanager
def installed_project(output: Path, **answers: str) -> Iterator[Path]:
    """Bake a project with these answers and install it (editable) into this environment while in use."""
    project = Path(cookiecutter(str(TEMPLATE), no_input=True, output_dir=str(output), extra_context=answers))
    python = str(VENV / "bin/python")
    run([python, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "-e", "."], project)
    try:
        yield project
    finally:
        run([python, "-m", "pip", "uninstall", "--quiet", "--yes", project.name], project, check=False)


@pytest.fixture(params=COMBOS, ids=lambda combo: f"level{combo[0]}-{combo[1]}")
def project(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Path]:
    level, framework = request.param
    name = f"churn l{level} {framework}"
    with installed_project(tmp_path, project_name=name, maturity_level=level, model_framework=framework) as folder:
        yield folder


def test_generated_project_passes_its_tests_and_runs_its_pipeline(project: Path) -> None:
    automated = (project / "dvc.yaml").exists()
    run(["make", "lint", f"VENV={VENV}"], project)
    run(["make", "test", f"VENV={VENV}"], project)
    run(["make", "pipeline", f"VENV={VENV}"], project)
    metrics = assert_gate_met(project)
    assert metrics["roc_auc"] > 0.8
    assert (project / "reports/validation.md").read_text().count("passed") == 5
    run(["make", "docs", f"VENV={VENV}"], project)
    assert run(["git", "status", "--porcelain", "docs/data_schema.md"], project).stdout == "", "schema page was stale"
    assert f"| ROC AUC | {metrics['roc_auc']:.4f} |" in (project / "docs/model_card.md").read_text()
    assert f"{metrics['roc_auc']:.4f}" in (project / "docs/experiments.md").read_text()
    assert "| seed | 42 |" in (project / "docs/environment.md").read_text()

    if automated:
        assert registered_versions(project) == 1
        second = run(["dvc", "repro"], project)
        assert "Data and pipelines are up to date" in second.stdout
        assert "Running stage" not in second.stdout
        params = yaml.safe_load((project / "params.yaml").read_text())
        params["evaluate"]["permutation_repeats"] += 1
        (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
        rerun = run(["dvc", "repro"], project).stdout
        assert "Running stage 'evaluate'" in rerun
        assert not [
            stage for stage in ("ingest", "validate", "featurize", "train") if f"Running stage '{stage}'" in rerun
        ]
        assert "reports/metrics.json" in run(["dvc", "metrics", "diff", "--all"], project).stdout
        run(["dvc", "push"], project)
        model = project / "models/model/model.skops"
        expected = model.read_bytes()
        run(["dvc", "gc", "--workspace", "--force"], project)
        model.unlink()
        run(["rm", "-rf", ".dvc/cache"], project)
        run(["dvc", "pull"], project)
        assert model.read_bytes() == expected

    model_before = (project / "models/model/model.skops").read_bytes()
    metrics_before = (project / "reports/metrics.json").read_text()
    versions_before = registered_versions(project) if automated else None
    corrupt_one_age(project)
    failed = run(["make", "pipeline", f"VENV={VENV}"], project, check=False)
    assert failed.returncode != 0
    assert "expect_column_values_to_be_between on column 'age'" in failed.stderr + failed.stdout
    assert "Running stage 'featurize'" not in failed.stdout
    assert (project / "models/model/model.skops").read_bytes() == model_before
    assert (project / "reports/metrics.json").read_text() == metrics_before
    if automated:
        assert registered_versions(project) == versions_before
