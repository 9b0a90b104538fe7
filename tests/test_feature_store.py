"""The feature_store prompt: refused at level 1, its files only with feast, and a project that runs with Feast.

The slow tests run real Feast: a level-2 project baked without a feature store is moved to
`feast` with `cruft update`, set up and run as a user does, then served by id over HTTP; a
level-3 project baked with feast passes its own feature-store tests and lint.
"""

from __future__ import annotations

import json
import sqlite3
import tomllib
from pathlib import Path

import httpx
import pytest
import yaml
from file_sets import FEAST, expected_files
from helpers import (
    CHOICES,
    TEMPLATE,
    Bake,
    RunningService,
    assert_gate_met,
    assert_ruff_clean,
    bake_project,
    git,
    holdout_records,
    project_files,
    run,
    setup_project,
)
from test_hooks import bake_cli
from test_upgrade import conflicts, copy_template, cruft

MODULE = "customer_churn"  # the default project name, as file_sets lists it


def test_the_prompt_offers_none_by_default_and_feast() -> None:
    assert CHOICES["feature_store"] == ["none", "feast"]


def test_feast_at_level_1_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    result = bake_cli(tmp_path, {"maturity_level": "1", "feature_store": "feast"})
    assert result.returncode != 0
    refusals = [line for line in result.stderr.splitlines() if line.startswith("ERROR: ") and "hook" not in line]
    assert len(refusals) == 1, result.stderr[-2000:]
    assert "feature_store 'feast' needs maturity_level 2 or 3" in refusals[0]
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("level", ["2", "3"])
def test_feast_adds_exactly_its_files_and_none_adds_none(bake: Bake, level: str) -> None:
    with_store = bake(maturity_level=level, feature_store="feast")
    assert project_files(with_store) == expected_files(level, "sklearn", feature_store="feast")
    without = bake(maturity_level=level, feature_store="none")
    assert not FEAST & set(project_files(without))
    assert not (without / "feature_repo").exists()


def test_the_feast_variant_is_lint_clean_and_pins_feast_with_pandas_2(bake: Bake) -> None:
    project = bake(maturity_level="2", feature_store="feast", model_framework="pytorch")
    assert_ruff_clean(project)
    dependencies = tomllib.loads((project / "pyproject.toml").read_text())["project"]["dependencies"]
    assert "feast==0.67.*" in dependencies
    assert "pandas>=2.2,<3" in dependencies
    stages = yaml.safe_load((project / "dvc.yaml").read_text())["stages"]
    assert list(stages) == ["ingest", "validate", "materialize", "featurize", "train", "evaluate"]
    assert "data/feature_store" in stages["featurize"]["deps"]
    assert yaml.safe_load((project / "params.yaml").read_text())["feature_store"]["ttl_days"] > 0
    plain = bake(maturity_level="2")
    assert "feast" not in (plain / "pyproject.toml").read_text()
    assert "materialize" not in yaml.safe_load((plain / "dvc.yaml").read_text())["stages"]


@pytest.mark.slow
def test_a_level_2_project_moves_to_feast_and_serves_by_id(tmp_path: Path) -> None:
    template = copy_template(tmp_path / "template")
    project = bake_project(tmp_path / "out", template, maturity_level="2")
    assert git(project, "status", "--porcelain") == ""  # baked as one commit on main

    updated = cruft(project, "update", "--skip-apply-ask", "--variables-to-update", '{"feature_store": "feast"}')
    assert updated.returncode == 0, updated.stdout + updated.stderr
    assert conflicts(project) == []
    assert json.loads((project / ".cruft.json").read_text())["context"]["cookiecutter"]["feature_store"] == "feast"
    assert project_files(project) == expected_files("2", "sklearn", feature_store="feast")

    setup_project(project)
    run(["python", "-m", MODULE, "generate", "--size", "0.25"], project, activate=True)
    pipeline = run(["make", "pipeline"], project).stdout
    assert "Running stage 'materialize'" in pipeline
    assert pipeline.index("'materialize'") < pipeline.index("'featurize'")
    assert_gate_met(project)
    for name in ("registry.db", "online.db", "features.parquet"):
        assert (project / "data/feature_store" / name).is_file()

    log = tmp_path / "predictions.db"
    records = holdout_records(project, 20)
    with RunningService(project, log, module=MODULE) as service:
        full = httpx.post(f"{service.url}/predict", json={"records": records}, timeout=30)
        by_id = httpx.post(
            f"{service.url}/predict", json={"records": [{"customer_id": r["customer_id"]} for r in records]}
        )
        unknown = httpx.post(f"{service.url}/predict", json={"records": [records[0], {"customer_id": 10**9}]})
    assert full.status_code == by_id.status_code == 200, by_id.text
    assert by_id.json()["predictions"] == full.json()["predictions"]
    assert unknown.status_code == 422
    assert unknown.json()["detail"] == [
        {
            "field": "records.1.customer_id",
            "reason": f"no features in the feature store for customer_id {10**9}",
            "type": "unknown_entity",
        }
    ]
    # the prediction log holds the looked-up features of by-id requests, so drift sees them
    with sqlite3.connect(log) as db:
        db.row_factory = sqlite3.Row
        logged = db.execute(
            "select * from predictions where request_id = ? order by row", (by_id.json()["request_id"],)
        ).fetchall()
    assert [{name: row[name] for name in records[0]} for row in logged] == records


@pytest.mark.slow
def test_a_level_3_feast_project_passes_its_own_feature_store_tests_and_lint(tmp_path: Path) -> None:
    project = setup_project(bake_project(tmp_path, TEMPLATE, maturity_level="3", feature_store="feast"))
    run(
        ["python", "-m", "pytest", "-q", "tests/integration/test_feature_store.py", "tests/service/test_lookup.py"],
        project,
        activate=True,
    )
    run(["make", "lint"], project)
